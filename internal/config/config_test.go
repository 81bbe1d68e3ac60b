package config_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"drives/internal/config"
	"drives/internal/devstack"
)

// clean clears every variable config reads (restored after the test) and points the config
// file lookup at an empty home, so that nothing of the machine running the test leaks in.
func clean(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TEMPORAL_") || k == "DRIVES_CODEC_KEYS" || k == "DATABASE_URL" || k == "LOG_LEVEL" {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
}

func options(t *testing.T) client.Options {
	t.Helper()
	opts, err := config.ClientOptions(nil)
	if err != nil {
		t.Fatalf("ClientOptions: %v", err)
	}
	return opts
}

// Nothing set: the local dev server (the SDK's default address), the drives' namespace,
// plain text, no credentials, payloads not encrypted.
//
// Shown failing on purpose: with the namespace default removed from ClientOptions, the
// namespace was "" (the SDK's "default").
func TestClientOptionsDefaults(t *testing.T) {
	clean(t)
	opts := options(t)
	if opts.HostPort != "" || opts.Namespace != config.DefaultNamespace {
		t.Errorf("address %q namespace %q, want the SDK's default address and %q", opts.HostPort, opts.Namespace, config.DefaultNamespace)
	}
	if opts.ConnectionOptions.TLS != nil || opts.Credentials != nil || opts.DataConverter != nil {
		t.Errorf("TLS %v, credentials %v, data converter %v: want none", opts.ConnectionOptions.TLS, opts.Credentials, opts.DataConverter)
	}
}

// The standard variables are honoured, including a namespace named "default" on purpose.
func TestClientOptionsFromVariables(t *testing.T) {
	clean(t)
	t.Setenv("TEMPORAL_ADDRESS", "temporal.example:7233")
	t.Setenv("TEMPORAL_NAMESPACE", "drives-prod")
	opts := options(t)
	if opts.HostPort != "temporal.example:7233" || opts.Namespace != "drives-prod" {
		t.Errorf("address %q namespace %q", opts.HostPort, opts.Namespace)
	}
	t.Setenv("TEMPORAL_NAMESPACE", "default")
	if ns := options(t).Namespace; ns != "default" {
		t.Errorf("TEMPORAL_NAMESPACE=default gave namespace %q", ns)
	}
}

// An API key (Temporal Cloud) sends credentials over TLS; TEMPORAL_TLS=false turns TLS off
// for a local server that checks keys.
//
// Shown failing on purpose: with the test's TEMPORAL_API_KEY misspelt (TEMPORAL_APIKEY) the
// options had no credentials and no TLS.
func TestClientOptionsAPIKey(t *testing.T) {
	clean(t)
	t.Setenv("TEMPORAL_ADDRESS", "drives.a1b2c.tmprl.cloud:7233")
	t.Setenv("TEMPORAL_NAMESPACE", "drives.a1b2c")
	t.Setenv("TEMPORAL_API_KEY", "api-key-of-the-test")
	opts := options(t)
	if opts.Credentials == nil {
		t.Error("an API key but no credentials")
	}
	if opts.ConnectionOptions.TLS == nil || opts.ConnectionOptions.TLSDisabled {
		t.Errorf("an API key without TLS: TLS %v, disabled %v", opts.ConnectionOptions.TLS, opts.ConnectionOptions.TLSDisabled)
	}
	t.Setenv("TEMPORAL_TLS", "false")
	opts = options(t)
	if opts.Credentials == nil || !opts.ConnectionOptions.TLSDisabled {
		t.Errorf("TEMPORAL_TLS=false: credentials %v, TLS disabled %v; want credentials, TLS off", opts.Credentials, opts.ConnectionOptions.TLSDisabled)
	}
}

// certFiles writes a self-signed certificate for server name name and its key, PEM, and
// returns their paths and the certificate.
func certFiles(t *testing.T, name string) (certPath, keyPath string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath, cert
}

// mTLS from files: the client presents its certificate and trusts the server's CA.
//
// Shown failing on purpose: with the client certificate's path given as the CA's
// (TEMPORAL_TLS_SERVER_CA_CERT_PATH = the other certificate) the server's certificate did not
// verify against the pool.
func TestClientOptionsTLSFromFiles(t *testing.T) {
	clean(t)
	clientCert, clientKey, cc := certFiles(t, "worker.drives.test")
	caCert, _, ca := certFiles(t, "temporal.drives.test")
	t.Setenv("TEMPORAL_ADDRESS", "temporal.drives.test:7233")
	t.Setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", clientCert)
	t.Setenv("TEMPORAL_TLS_CLIENT_KEY_PATH", clientKey)
	t.Setenv("TEMPORAL_TLS_SERVER_CA_CERT_PATH", caCert)
	t.Setenv("TEMPORAL_TLS_SERVER_NAME", "temporal.drives.test")
	opts := options(t)
	conf := opts.ConnectionOptions.TLS
	if conf == nil || opts.ConnectionOptions.TLSDisabled {
		t.Fatalf("TLS files set but TLS %v, disabled %v", conf, opts.ConnectionOptions.TLSDisabled)
	}
	if len(conf.Certificates) != 1 || !bytes.Equal(conf.Certificates[0].Certificate[0], cc.Raw) {
		t.Errorf("the client certificate presented is not the one in %s", filepath.Base(clientCert))
	}
	if conf.ServerName != "temporal.drives.test" || conf.InsecureSkipVerify {
		t.Errorf("server name %q, skip verify %v", conf.ServerName, conf.InsecureSkipVerify)
	}
	if _, err := ca.Verify(x509.VerifyOptions{Roots: conf.RootCAs, DNSName: "temporal.drives.test"}); err != nil {
		t.Errorf("the server's certificate does not verify against the configured CA: %v", err)
	}
	if _, err := cc.Verify(x509.VerifyOptions{Roots: conf.RootCAs, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err == nil {
		t.Error("the CA pool trusts a certificate it was not given")
	}
}

// Bad TLS settings are refused, naming what is wrong.
//
// Shown failing on purpose: with ClientOptions ignoring the error of
// envconfig.LoadDefaultClientOptions, every case below gave options and no error.
func TestClientOptionsBadTLS(t *testing.T) {
	certPath, keyPath, _ := certFiles(t, "worker.drives.test")
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing-ca.pem")
	for _, c := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"a certificate without its key", map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": certPath},
			[]string{"temporal client configuration", "cert or key path"}},
		{"a key without its certificate", map[string]string{"TEMPORAL_TLS_CLIENT_KEY_PATH": keyPath},
			[]string{"temporal client configuration", "cert or key path"}},
		{"the key given as the certificate", map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": keyPath, "TEMPORAL_TLS_CLIENT_KEY_PATH": keyPath},
			[]string{"temporal client configuration", "client cert/key"}},
		{"a missing CA file", map[string]string{"TEMPORAL_TLS_SERVER_CA_CERT_PATH": missing},
			[]string{"temporal client configuration", "server CA", missing}},
		{"a CA file that is no certificate", map[string]string{"TEMPORAL_TLS_SERVER_CA_CERT_PATH": notPEM},
			[]string{"temporal client configuration", "server CA"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			clean(t)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			_, err := config.ClientOptions(nil)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// Profiles from a config file (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE), with the variables
// over them.
//
// Shown failing on purpose: with TEMPORAL_PROFILE set to "cloud" before the file's cloud
// profile was written under [profile.cloudy], the error named the missing profile and the
// checks of its address failed.
func TestClientOptionsProfiles(t *testing.T) {
	clean(t)
	certPath, keyPath, cc := certFiles(t, "worker.drives.test")
	file := filepath.Join(t.TempDir(), "temporal.toml")
	toml := fmt.Sprintf(`
[profile.default]
address = "127.0.0.1:7299"
namespace = "drives-local"

[profile.cloud]
address = "drives.a1b2c.tmprl.cloud:7233"
namespace = "drives.a1b2c"
api_key = "api-key-of-the-profile"

[profile.mtls]
address = "temporal.drives.test:7233"
namespace = "drives-mtls"
[profile.mtls.tls]
client_cert_path = %q
client_key_path = %q
`, certPath, keyPath)
	if err := os.WriteFile(file, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEMPORAL_CONFIG_FILE", file)

	opts := options(t)
	if opts.HostPort != "127.0.0.1:7299" || opts.Namespace != "drives-local" || opts.ConnectionOptions.TLS != nil || opts.Credentials != nil {
		t.Errorf("default profile: address %q namespace %q TLS %v credentials %v", opts.HostPort, opts.Namespace, opts.ConnectionOptions.TLS, opts.Credentials)
	}

	t.Setenv("TEMPORAL_PROFILE", "cloud")
	opts = options(t)
	if opts.HostPort != "drives.a1b2c.tmprl.cloud:7233" || opts.Namespace != "drives.a1b2c" || opts.Credentials == nil || opts.ConnectionOptions.TLS == nil {
		t.Errorf("cloud profile: address %q namespace %q TLS %v credentials %v", opts.HostPort, opts.Namespace, opts.ConnectionOptions.TLS, opts.Credentials)
	}
	// A variable wins over the profile.
	t.Setenv("TEMPORAL_NAMESPACE", "drives-staging")
	if ns := options(t).Namespace; ns != "drives-staging" {
		t.Errorf("TEMPORAL_NAMESPACE over the profile gave %q", ns)
	}
	os.Unsetenv("TEMPORAL_NAMESPACE")

	t.Setenv("TEMPORAL_PROFILE", "mtls")
	opts = options(t)
	if opts.Namespace != "drives-mtls" || opts.ConnectionOptions.TLS == nil || len(opts.ConnectionOptions.TLS.Certificates) != 1 ||
		!bytes.Equal(opts.ConnectionOptions.TLS.Certificates[0].Certificate[0], cc.Raw) {
		t.Errorf("mtls profile: namespace %q, TLS %v", opts.Namespace, opts.ConnectionOptions.TLS)
	}

	// A profile that is not in the file is an error that names it.
	t.Setenv("TEMPORAL_PROFILE", "staging")
	if _, err := config.ClientOptions(nil); err == nil || !strings.Contains(err.Error(), "staging") {
		t.Errorf("unknown profile: error %v, want one naming it", err)
	}

	// A file that is not TOML is an error that says it is the client configuration.
	t.Setenv("TEMPORAL_PROFILE", "")
	if err := os.WriteFile(file, []byte("[profile.default\naddress = \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := config.ClientOptions(nil); err == nil || !strings.Contains(err.Error(), "temporal client configuration") {
		t.Errorf("malformed file: error %v", err)
	}
}

// DRIVES_CODEC_KEYS turns payload encryption on; a bad list is refused by position, without
// repeating the key material.
func TestClientOptionsCodec(t *testing.T) {
	clean(t)
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	t.Setenv("DRIVES_CODEC_KEYS", "k1:"+key)
	if opts := options(t); opts.DataConverter == nil {
		t.Error("codec keys set but payloads not encrypted")
	}
	t.Setenv("DRIVES_CODEC_KEYS", key) // the key without its ID
	_, err := config.ClientOptions(nil)
	if err == nil || !strings.Contains(err.Error(), "DRIVES_CODEC_KEYS") || strings.Contains(err.Error(), key[:8]) {
		t.Errorf("a key without ID: error %v; want one naming DRIVES_CODEC_KEYS and not quoting the key", err)
	}
}

// DATABASE_URL must be set; a URL that cannot be parsed or reached is an error that says
// which, without the password.
//
// Shown failing on purpose: with Pool's Ping removed, the unreachable server gave a pool and
// no error.
func TestDatabaseURL(t *testing.T) {
	clean(t)
	if _, err := config.DatabaseURL(); err == nil || !strings.Contains(err.Error(), "DATABASE_URL is not set") {
		t.Errorf("unset: error %v", err)
	}
	if _, err := config.Pool(context.Background()); err == nil || !strings.Contains(err.Error(), "DATABASE_URL is not set") {
		t.Errorf("Pool, unset: error %v", err)
	}
	t.Setenv("DATABASE_URL", "postgres://drives@db.example/drives")
	if u, err := config.DatabaseURL(); err != nil || u != "postgres://drives@db.example/drives" {
		t.Errorf("set: %q %v", u, err)
	}

	t.Setenv("DATABASE_URL", "postgres://drives:secret-password@127.0.0.1:notaport/drives")
	_, err := config.Pool(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "DATABASE_URL: ") || strings.Contains(err.Error(), "secret-password") {
		t.Errorf("unparsable: error %v; want one starting DATABASE_URL: without the password", err)
	}

	port, err := devstack.FreePort() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("DATABASE_URL", fmt.Sprintf("postgres://drives:secret-password@127.0.0.1:%d/drives?connect_timeout=5", port))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = config.Pool(ctx)
	if err == nil || !strings.Contains(err.Error(), "cannot reach PostgreSQL at DATABASE_URL") || strings.Contains(err.Error(), "secret-password") {
		t.Errorf("unreachable: error %v; want one saying PostgreSQL cannot be reached, without the password", err)
	}
}

// A Temporal that does not answer is an error naming its address and namespace.
func TestTemporalUnreachable(t *testing.T) {
	clean(t)
	port, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	t.Setenv("TEMPORAL_ADDRESS", addr)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := config.Temporal(ctx, nil)
	if err == nil {
		c.Close()
		t.Fatal("dialled a port where nothing listens")
	}
	want := fmt.Sprintf("cannot reach Temporal at %s (namespace %s)", addr, config.DefaultNamespace)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want it to say %q", err, want)
	}
}

// logAt builds the logger with LOG_LEVEL set to level, logs at debug and info, and returns
// what reached stderr.
func logAt(t *testing.T, level string) []map[string]any {
	t.Helper()
	t.Setenv("LOG_LEVEL", level)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	l := config.Logger()
	os.Stderr = stderr
	l.Debug("debug line")
	l.Info("info line", "n", 1)
	w.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// Logs are JSON lines on stderr at LOG_LEVEL, info when it is unset or not a level.
//
// Shown failing on purpose: with Logger's level fixed at info, LOG_LEVEL=debug lost the
// debug line.
func TestLogger(t *testing.T) {
	clean(t)
	for _, c := range []struct {
		level string
		want  []string
	}{
		{"", []string{"info line"}},
		{"debug", []string{"debug line", "info line"}},
		{"DEBUG", []string{"debug line", "info line"}},
		{"warn", nil},
		{"loud", []string{"info line"}},
	} {
		var got []string
		for _, m := range logAt(t, c.level) {
			got = append(got, fmt.Sprint(m["msg"]))
			if m["msg"] == "info line" && (m["level"] != slog.LevelInfo.String() || m["n"] != 1.0) {
				t.Errorf("LOG_LEVEL=%q: line %v", c.level, m)
			}
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("LOG_LEVEL=%q: logged %q, want %q", c.level, got, c.want)
		}
	}
}
