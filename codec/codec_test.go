package codec_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"drives/codec"
	"drives/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// Personal data as the drives hold it: a citizen ID and a name.
const (
	citizenID = "001099012345"
	fullName  = "Nguyễn Thị Hoa"
)

type person struct {
	CitizenID string `json:"citizen_id"`
	FullName  string `json:"full_name"`
}

func newKey(t *testing.T, id string) codec.Key {
	t.Helper()
	b := make([]byte, codec.KeySize)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return codec.Key{ID: id, Secret: b}
}

func newCodec(t *testing.T, keys ...codec.Key) *codec.Codec {
	t.Helper()
	c, err := codec.New(keys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func plainPayloads(t *testing.T) []*commonpb.Payload {
	t.Helper()
	dc := converter.GetDefaultDataConverter()
	var out []*commonpb.Payload
	for _, v := range []any{person{citizenID, fullName}, "phone 0912345678", 42, nil, []byte("raw " + citizenID)} {
		p, err := dc.ToPayload(v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func encode(t *testing.T, c *codec.Codec, in []*commonpb.Payload) []*commonpb.Payload {
	t.Helper()
	out, err := c.Encode(in)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return out
}

func keyID(p *commonpb.Payload) string { return string(p.GetMetadata()[codec.MetadataKeyID]) }

func TestRoundTrip(t *testing.T) {
	c := newCodec(t, newKey(t, "k1"))
	in := plainPayloads(t)
	enc := encode(t, c, in)
	if len(enc) != len(in) {
		t.Fatalf("%d payloads encoded to %d", len(in), len(enc))
	}
	for i, p := range enc {
		if got := string(p.Metadata[converter.MetadataEncoding]); got != codec.EncodingEncrypted {
			t.Errorf("payload %d: encoding %q, want %q", i, got, codec.EncodingEncrypted)
		}
		if keyID(p) != "k1" {
			t.Errorf("payload %d: key ID %q, want k1", i, keyID(p))
		}
		if len(p.Metadata) != 2 {
			t.Errorf("payload %d: metadata %v leaks more than encoding and key ID", i, p.Metadata)
		}
		raw, _ := proto.Marshal(p)
		for _, secret := range []string{citizenID, fullName, "0912345678", "json/plain"} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("payload %d: %q readable in the encrypted payload", i, secret)
			}
		}
	}
	dec, err := c.Decode(enc)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	for i := range in {
		if !proto.Equal(in[i], dec[i]) {
			t.Errorf("payload %d: decoded %v, want %v", i, dec[i], in[i])
		}
	}
	// A fresh nonce each time: the same payload never encrypts the same way twice.
	again := encode(t, c, in[:1])
	if bytes.Equal(again[0].Data, enc[0].Data) {
		t.Error("the same payload encrypted twice gave the same ciphertext")
	}
	// Encrypting what is already encrypted changes nothing.
	twice := encode(t, c, enc[:1])
	if !proto.Equal(twice[0], enc[0]) {
		t.Error("an encrypted payload was encrypted again")
	}

	// Through the data converter, as clients and workers use it.
	dc := codec.DataConverter(c)
	p, err := dc.ToPayload(person{citizenID, fullName})
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Metadata[converter.MetadataEncoding]) != codec.EncodingEncrypted || bytes.Contains(p.Data, []byte(citizenID)) {
		t.Fatalf("data converter did not encrypt: %v", p)
	}
	var back person
	if err := dc.FromPayload(p, &back); err != nil {
		t.Fatal(err)
	}
	if back != (person{citizenID, fullName}) {
		t.Fatalf("data converter round trip gave %+v", back)
	}
}

// A payload under k1 still decodes after k2 is added; new payloads use k2; a process that
// has only k1 says it lacks k2.
func TestRotation(t *testing.T) {
	k1, k2 := newKey(t, "k1"), newKey(t, "k2")
	old := newCodec(t, k1)
	underK1 := encode(t, old, plainPayloads(t))

	rotated := newCodec(t, k1, k2)
	if rotated.CurrentKeyID() != "k2" {
		t.Fatalf("current key %q, want the last one, k2", rotated.CurrentKeyID())
	}
	dec, err := rotated.Decode(underK1)
	if err != nil {
		t.Fatalf("payload under k1 after adding k2: %v", err)
	}
	if !proto.Equal(dec[0], plainPayloads(t)[0]) {
		t.Fatal("payload under k1 decoded wrongly after rotation")
	}
	underK2 := encode(t, rotated, plainPayloads(t))
	for i, p := range underK2 {
		if keyID(p) != "k2" {
			t.Fatalf("new payload %d under key %q, want k2", i, keyID(p))
		}
	}
	// Mixed batches decode too (histories span a rotation).
	if _, err := rotated.Decode([]*commonpb.Payload{underK1[0], underK2[0]}); err != nil {
		t.Fatalf("mixed k1/k2 batch: %v", err)
	}
	_, err = old.Decode(underK2)
	want := `payload encrypted with key "k2", which this process does not have`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("decoding k2 with only k1: error %v, want %q", err, want)
	}
}

func TestKeyErrors(t *testing.T) {
	k1 := newKey(t, "k1")
	enc := encode(t, newCodec(t, k1), plainPayloads(t)[:1])

	t.Run("unknown key ID", func(t *testing.T) {
		_, err := newCodec(t, newKey(t, "k7")).Decode(enc)
		want := `payload encrypted with key "k1", which this process does not have (DRIVES_CODEC_KEYS has "k7")`
		if err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
		var ke *codec.KeyError
		if !errors.As(err, &ke) || ke.KeyID != "k1" || !ke.Unknown {
			t.Fatalf("error %#v is not an unknown-key KeyError for k1", err)
		}
		// In a worker this fails the workflow task (retried), not the workflow.
		var wft *converter.WorkflowTaskFailureError
		if !errors.As(err, &wft) {
			t.Fatalf("error %T is not a WorkflowTaskFailureError", err)
		}
	})
	t.Run("wrong key under a known ID", func(t *testing.T) {
		_, err := newCodec(t, newKey(t, "k1")).Decode(enc)
		want := `payload does not decrypt with key "k1": wrong key or altered data`
		if err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
		var ke *codec.KeyError
		if !errors.As(err, &ke) || ke.KeyID != "k1" || ke.Unknown {
			t.Fatalf("error %#v is not a failed-authentication KeyError for k1", err)
		}
	})
	t.Run("through the data converter", func(t *testing.T) {
		var p person
		err := codec.DataConverter(newCodec(t, newKey(t, "k1"))).FromPayload(enc[0], &p)
		if err == nil || !strings.Contains(err.Error(), `does not decrypt with key "k1"`) {
			t.Fatalf("error %v does not name the key", err)
		}
	})
	t.Run("no key ID", func(t *testing.T) {
		p := proto.Clone(enc[0]).(*commonpb.Payload)
		delete(p.Metadata, codec.MetadataKeyID)
		_, err := newCodec(t, k1).Decode([]*commonpb.Payload{p})
		if err == nil || !strings.Contains(err.Error(), codec.MetadataKeyID) {
			t.Fatalf("error %v does not say the key ID is missing", err)
		}
	})
}

func TestTampered(t *testing.T) {
	k1, k2 := newKey(t, "k1"), newKey(t, "k2")
	c := newCodec(t, k1, k2)
	enc := encode(t, c, plainPayloads(t)[:1])[0]
	want := `payload does not decrypt with key "k2": wrong key or altered data`
	for name, alter := range map[string]func(p *commonpb.Payload){
		"flipped ciphertext byte": func(p *commonpb.Payload) { p.Data[len(p.Data)/2] ^= 0x01 },
		"flipped nonce byte":      func(p *commonpb.Payload) { p.Data[0] ^= 0x80 },
		"flipped tag byte":        func(p *commonpb.Payload) { p.Data[len(p.Data)-1] ^= 0x01 },
		"truncated":               func(p *commonpb.Payload) { p.Data = p.Data[:10] },
		"empty":                   func(p *commonpb.Payload) { p.Data = nil },
		"appended byte":           func(p *commonpb.Payload) { p.Data = append(p.Data, 0) },
	} {
		t.Run(name, func(t *testing.T) {
			p := proto.Clone(enc).(*commonpb.Payload)
			alter(p)
			if _, err := c.Decode([]*commonpb.Payload{p}); err == nil || err.Error() != want {
				t.Fatalf("error %v, want %q", err, want)
			}
		})
	}
	t.Run("relabelled with another known key", func(t *testing.T) {
		p := proto.Clone(enc).(*commonpb.Payload)
		p.Metadata[codec.MetadataKeyID] = []byte("k1")
		_, err := c.Decode([]*commonpb.Payload{p})
		if err == nil || !strings.Contains(err.Error(), `does not decrypt with key "k1"`) {
			t.Fatalf("error %v", err)
		}
	})
}

// Payloads written before a key was configured still read.
func TestUnencryptedPassesThrough(t *testing.T) {
	c := newCodec(t, newKey(t, "k1"))
	in := plainPayloads(t)
	in = append(in, nil, &commonpb.Payload{}) // no metadata at all
	out, err := c.Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if !proto.Equal(in[i], out[i]) {
			t.Errorf("payload %d changed: %v → %v", i, in[i], out[i])
		}
	}
	var p person
	if err := codec.DataConverter(c).FromPayload(in[0], &p); err != nil || p.CitizenID != citizenID {
		t.Fatalf("plain payload through the data converter: %+v, %v", p, err)
	}
}

func TestParseKeys(t *testing.T) {
	b64 := func(n int, fill byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, n)) }
	good1, good2 := b64(32, 'a'), b64(32, 'b')

	keys, err := codec.ParseKeys(" k1:" + good1 + " , k2:" + good2 + " ")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != "k1" || keys[1].ID != "k2" || string(keys[1].Secret) != strings.Repeat("b", 32) {
		t.Fatalf("parsed %+v", keys)
	}
	// URL-safe and unpadded base64 are taken too.
	raw := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32))
	if _, err := codec.ParseKeys("k1:" + raw); err != nil {
		t.Fatalf("unpadded URL-safe base64: %v", err)
	}

	long := strings.Repeat("x", 33)
	cases := []struct {
		value string
		want  string
	}{
		{" ", "DRIVES_CODEC_KEYS is set but names no key"},
		{"k1:" + good1 + ",", "DRIVES_CODEC_KEYS: entry 2 is empty"},
		{good1, "DRIVES_CODEC_KEYS: entry 1 is not id:base64key (no colon)"},
		{"k1:" + good1 + "," + good2, "DRIVES_CODEC_KEYS: entry 2 is not id:base64key (no colon)"},
		{":" + good1, "DRIVES_CODEC_KEYS: entry 1: the key ID is empty"},
		{"k 1:" + good1, "DRIVES_CODEC_KEYS: entry 1: the key ID may hold only letters, digits"},
		{long + ":" + good1, "DRIVES_CODEC_KEYS: entry 1: the key ID is longer than 32 characters"},
		{"k1:", `DRIVES_CODEC_KEYS: entry 1 ("k1"): the key is empty`},
		{"k1:@@secret@@", `DRIVES_CODEC_KEYS: entry 1 ("k1"): the key is not base64`},
		{"k1:" + b64(16, 'c'), `DRIVES_CODEC_KEYS: entry 1 ("k1"): the key is 16 bytes; AES-256 needs 32`},
		{"k1:" + good1 + ",k1:" + good2, `DRIVES_CODEC_KEYS: entry 2 ("k1"): key ID "k1" is also entry 1`},
		// Written the wrong way round: the key is never echoed as an ID.
		{good1 + ":k1", "DRIVES_CODEC_KEYS: entry 1: the key ID"},
	}
	for _, c := range cases {
		t.Run(c.value, func(t *testing.T) {
			_, err := codec.ParseKeys(c.value)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			for _, secret := range []string{good1, good2, b64(16, 'c'), "@@secret@@", long} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q repeats key material", err)
				}
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv(codec.EnvKeys, "")
	if c, err := codec.FromEnv(); c != nil || err != nil {
		t.Fatalf("unset: %v, %v; want nil, nil", c, err)
	}
	t.Setenv(codec.EnvKeys, "k1:"+base64.StdEncoding.EncodeToString(make([]byte, 32))+",k2:"+base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)))
	c, err := codec.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.KeyIDs(); len(got) != 2 || got[0] != "k1" || got[1] != "k2" || c.CurrentKeyID() != "k2" {
		t.Fatalf("keys %v, current %q", got, c.CurrentKeyID())
	}
	t.Setenv(codec.EnvKeys, "k1:short")
	if _, err := codec.FromEnv(); err == nil || !strings.Contains(err.Error(), `DRIVES_CODEC_KEYS: entry 1 ("k1")`) {
		t.Fatalf("bad value: %v", err)
	}
}

func TestNewRefusesBadKeys(t *testing.T) {
	if _, err := codec.New(nil); err == nil {
		t.Error("no keys accepted")
	}
	if _, err := codec.New([]codec.Key{{ID: "k1", Secret: make([]byte, 16)}}); err == nil || !strings.Contains(err.Error(), "AES-256 needs 32") {
		t.Errorf("16-byte key: %v", err)
	}
	k := newKey(t, "k1")
	if _, err := codec.New([]codec.Key{k, k}); err == nil || !strings.Contains(err.Error(), `"k1" is given twice`) {
		t.Errorf("duplicate key: %v", err)
	}
}

// The codec server -----------------------------------------------------------------------

const (
	uiOrigin = "http://127.0.0.1:8233"
	token    = "test-token-0123456789abcdef"
)

func codecServer(t *testing.T, c *codec.Codec) *httptest.Server {
	t.Helper()
	h, err := codec.NewHTTPHandler(c, codec.ServerOptions{Token: token, UIOrigins: []string{uiOrigin}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func request(t *testing.T, method, url string, body []byte, header map[string]string, cookies ...*http.Cookie) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const decodeBody = `{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"IngiCg=="}]}`

func TestServerAuth(t *testing.T) {
	srv := codecServer(t, newCodec(t, newKey(t, "k1")))
	for name, hdr := range map[string]map[string]string{
		"no token":          {"Content-Type": "application/json"},
		"wrong token":       {"Authorization": "Bearer not-the-token-at-all-xx"},
		"token prefix":      {"Authorization": "Bearer " + token[:len(token)-1]},
		"not bearer":        {"Authorization": "Basic " + token},
		"no token from UI":  {"Origin": uiOrigin},
		"token in a header": {"X-Token": token},
	} {
		for _, path := range []string{"/encode", "/decode"} {
			t.Run(name+" "+path, func(t *testing.T) {
				resp, body := request(t, http.MethodPost, srv.URL+path, []byte(decodeBody), hdr)
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("status %d (%s), want 401", resp.StatusCode, body)
				}
				if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
				}
			})
		}
	}
	t.Run("right token", func(t *testing.T) {
		resp, body := request(t, http.MethodPost, srv.URL+"/decode", []byte(decodeBody),
			map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json", "X-Namespace": "enrolment-drives"})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "IngiCg==") {
			t.Fatalf("status %d, body %s", resp.StatusCode, body)
		}
	})
	t.Run("healthz without token", func(t *testing.T) {
		resp, body := request(t, http.MethodGet, srv.URL+"/healthz", nil, nil)
		if resp.StatusCode != http.StatusOK || strings.TrimSpace(body) != "ok" {
			t.Fatalf("status %d, body %q", resp.StatusCode, body)
		}
	})
	t.Run("GET decode", func(t *testing.T) {
		resp, _ := request(t, http.MethodGet, srv.URL+"/decode", nil, map[string]string{"Authorization": "Bearer " + token})
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("status %d, want 405", resp.StatusCode)
		}
	})
	t.Run("unknown path", func(t *testing.T) {
		resp, _ := request(t, http.MethodPost, srv.URL+"/other", nil, map[string]string{"Authorization": "Bearer " + token})
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d, want 404", resp.StatusCode)
		}
	})
}

func TestServerCORS(t *testing.T) {
	srv := codecServer(t, newCodec(t, newKey(t, "k1")))
	preflight := func(origin string) *http.Response {
		resp, _ := request(t, http.MethodOptions, srv.URL+"/decode", nil, map[string]string{
			"Origin":                         origin,
			"Access-Control-Request-Method":  "POST",
			"Access-Control-Request-Headers": "content-type,authorization,x-namespace",
		})
		return resp
	}
	t.Run("preflight from the UI", func(t *testing.T) {
		resp := preflight(uiOrigin)
		if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != uiOrigin {
			t.Fatalf("Allow-Origin %q, want %q", got, uiOrigin)
		}
		allowed := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
		for _, h := range []string{"content-type", "authorization", "x-namespace"} {
			if !strings.Contains(allowed, h) {
				t.Errorf("Allow-Headers %q lacks %s", allowed, h)
			}
		}
		if !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("Allow-Methods %q", resp.Header.Get("Access-Control-Allow-Methods"))
		}
		if resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Error("credentials not allowed")
		}
	})
	t.Run("preflight from another origin", func(t *testing.T) {
		for _, origin := range []string{"http://evil.example", "http://127.0.0.1:9999", "https://127.0.0.1:8233"} {
			resp := preflight(origin)
			for k := range resp.Header {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("origin %s: CORS header %s: %s", origin, k, resp.Header.Get(k))
				}
			}
		}
	})
	t.Run("response to the UI carries CORS", func(t *testing.T) {
		resp, _ := request(t, http.MethodPost, srv.URL+"/decode", []byte(decodeBody),
			map[string]string{"Origin": uiOrigin, "Authorization": "Bearer " + token})
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != uiOrigin {
			t.Fatalf("status %d, Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		// An unauthorised answer too, so that the UI can tell why.
		resp, _ = request(t, http.MethodPost, srv.URL+"/decode", []byte(decodeBody), map[string]string{"Origin": uiOrigin})
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Access-Control-Allow-Origin") != uiOrigin {
			t.Fatalf("status %d, Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("response to another origin carries none", func(t *testing.T) {
		resp, _ := request(t, http.MethodPost, srv.URL+"/decode", []byte(decodeBody),
			map[string]string{"Origin": "http://evil.example", "Authorization": "Bearer " + token})
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Fatalf("Allow-Origin %q for another origin", got)
		}
	})
}

// The browser's way: sign in at /login with the token, then the UI's credentialed requests
// carry the session cookie, which counts only from the UI's origin.
func TestServerLogin(t *testing.T) {
	srv := codecServer(t, newCodec(t, newKey(t, "k1")))
	form := func(tok string) []byte { return []byte(url.Values{"token": {tok}}.Encode()) }
	ct := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

	resp, body := request(t, http.MethodGet, srv.URL+"/login", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="token"`) {
		t.Fatalf("login page: %d %s", resp.StatusCode, body)
	}
	resp, _ = request(t, http.MethodPost, srv.URL+"/login", form("wrong-token-wrong-token"), ct)
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Fatalf("wrong token: status %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	resp, _ = request(t, http.MethodPost, srv.URL+"/login", form(token), ct)
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == codec.SessionCookie {
			session = c
		}
	}
	if resp.StatusCode != http.StatusOK || session == nil {
		t.Fatalf("right token: status %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || strings.Contains(session.Value, token) {
		t.Fatalf("session cookie %+v", session)
	}
	cookie := &http.Cookie{Name: session.Name, Value: session.Value}
	resp, _ = request(t, http.MethodPost, srv.URL+"/decode", []byte(decodeBody), map[string]string{"Origin": uiOrigin}, cookie)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("cookie from the UI: status %d", resp.StatusCode)
	}
	for _, origin := range []string{"", "http://evil.example"} {
		resp, _ = request(t, http.MethodPost, srv.URL+"/decode", []byte(decodeBody), map[string]string{"Origin": origin}, cookie)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("cookie from origin %q: status %d, want 401", origin, resp.StatusCode)
		}
	}
	forged := &http.Cookie{Name: session.Name, Value: strings.Repeat("0", len(session.Value))}
	resp, _ = request(t, http.MethodPost, srv.URL+"/decode", []byte(decodeBody), map[string]string{"Origin": uiOrigin}, forged)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged cookie: status %d", resp.StatusCode)
	}
}

// /encode then /decode over HTTP, as the CLI's remote codec calls them.
func TestServerRoundTrip(t *testing.T) {
	k1 := newKey(t, "k1")
	c := newCodec(t, k1)
	srv := codecServer(t, c)
	remote := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: srv.URL,
		ModifyRequest: func(r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+token)
			r.Header.Set("X-Namespace", "enrolment-drives")
			return nil
		},
	})
	in := plainPayloads(t)
	enc, err := remote.Encode(in)
	if err != nil {
		t.Fatalf("/encode: %v", err)
	}
	for i, p := range enc {
		if keyID(p) != "k1" || bytes.Contains(p.Data, []byte(citizenID)) {
			t.Fatalf("payload %d not encrypted by /encode: %v", i, p)
		}
	}
	// What the server encrypted, the process decrypts, and the other way round.
	if _, err := c.Decode(enc); err != nil {
		t.Fatalf("local decode of /encode's output: %v", err)
	}
	dec, err := remote.Decode(encode(t, c, in))
	if err != nil {
		t.Fatalf("/decode: %v", err)
	}
	for i := range in {
		if !proto.Equal(in[i], dec[i]) {
			t.Fatalf("payload %d: %v, want %v", i, dec[i], in[i])
		}
	}
	// A payload under a key the server lacks: the reason comes back.
	_, err = remote.Decode(encode(t, newCodec(t, newKey(t, "k9")), in[:1]))
	if err == nil || !strings.Contains(err.Error(), `payload encrypted with key "k9", which this process does not have`) {
		t.Fatalf("/decode of a k9 payload: %v", err)
	}
}

func TestServerOptions(t *testing.T) {
	c := newCodec(t, newKey(t, "k1"))
	for _, tc := range []struct {
		opts codec.ServerOptions
		want string
	}{
		{codec.ServerOptions{UIOrigins: []string{uiOrigin}}, "no bearer token"},
		{codec.ServerOptions{Token: "short", UIOrigins: []string{uiOrigin}}, "at least 16"},
		{codec.ServerOptions{Token: token}, "no Web UI origin"},
		{codec.ServerOptions{Token: token, UIOrigins: []string{"127.0.0.1:8233"}}, "Web UI origin"},
		{codec.ServerOptions{Token: token, UIOrigins: []string{"http://127.0.0.1:8233/namespaces"}}, "no path"},
	} {
		if _, err := codec.NewHTTPHandler(c, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.opts, err, tc.want)
		}
	}
	if _, err := codec.NewHTTPHandler(nil, codec.ServerOptions{Token: token, UIOrigins: []string{uiOrigin}}); err == nil {
		t.Error("no codec accepted")
	}
	if o, err := codec.NormalizeOrigin("HTTP://127.0.0.1:8233/"); err != nil || o != uiOrigin {
		t.Errorf("normalised %q, %v", o, err)
	}
}

// Each sign-in gets a cookie of its own that the server ends after 12 hours, whatever the
// browser keeps; a cookie whose expiry was moved, or that another token's server signed, does
// not count. Shown failing with cookies the same at every sign-in and expiring 12,000 hours
// on: the two sign-ins' cookies were equal.
func TestServerSessionsExpire(t *testing.T) {
	now := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	serve := func(tok string) *httptest.Server {
		h, err := codec.NewHTTPHandler(newCodec(t, newKey(t, "k1")), codec.ServerOptions{Token: tok, UIOrigins: []string{uiOrigin}, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv
	}
	srv, other := serve(token), serve(token+"-other")
	signIn := func(srv *httptest.Server, tok string) *http.Cookie {
		t.Helper()
		resp, _ := request(t, http.MethodPost, srv.URL+"/login", []byte(url.Values{"token": {tok}}.Encode()),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		for _, c := range resp.Cookies() {
			if c.Name == codec.SessionCookie {
				return &http.Cookie{Name: c.Name, Value: c.Value}
			}
		}
		t.Fatalf("sign-in: status %d, no session cookie", resp.StatusCode)
		return nil
	}
	decode := func(c *http.Cookie) int {
		t.Helper()
		resp, _ := request(t, http.MethodPost, srv.URL+"/decode", []byte(decodeBody), map[string]string{"Origin": uiOrigin}, c)
		return resp.StatusCode
	}

	first, second := signIn(srv, token), signIn(srv, token)
	if first.Value == second.Value {
		t.Fatal("two sign-ins got the same session cookie")
	}
	now = now.Add(12*time.Hour - time.Second)
	if got := decode(first); got != http.StatusOK {
		t.Fatalf("a session just before its 12 hours: status %d", got)
	}
	now = now.Add(time.Second)
	if got := decode(first); got != http.StatusUnauthorized {
		t.Fatalf("a session after its 12 hours: status %d, want 401", got)
	}
	if _, body := request(t, http.MethodGet, srv.URL+"/login", nil, nil, first); strings.Contains(body, "Signed in") {
		t.Fatal("the login page says an expired session is signed in")
	}

	fresh := signIn(srv, token)
	exp, rest, _ := strings.Cut(fresh.Value, ".")
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		t.Fatalf("cookie %q does not start with its expiry", fresh.Value)
	}
	for name, v := range map[string]string{
		"expiry moved":           strconv.FormatInt(n+86400, 10) + "." + rest,
		"signed by another":      signIn(other, token+"-other").Value,
		"signature cut":          fresh.Value[:len(fresh.Value)-2],
		"no signature":           exp + "." + strings.Split(rest, ".")[0],
		"the token":              token,
		"empty":                  "",
		"expiry only":            exp,
		"expiry not a number":    "x" + fresh.Value[1:],
		"another session's sign": exp + "." + strings.Split(rest, ".")[0] + "." + strings.Split(second.Value, ".")[2],
	} {
		if got := decode(&http.Cookie{Name: codec.SessionCookie, Value: v}); got != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, got)
		}
	}
	if got := decode(fresh); got != http.StatusOK {
		t.Fatalf("a fresh session: status %d", got)
	}
}

// A process without DRIVES_CODEC_KEYS reads plain payloads as before, and for an encrypted one
// says which key it needs and where to give it (the SDK alone says "payload encoding is not
// supported"); it encrypts nothing.
func TestKeyless(t *testing.T) {
	plain := plainPayloads(t)
	enc := encode(t, newCodec(t, newKey(t, "k1")), plain[:1])
	keyless := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), codec.Keyless{})

	out, err := codec.Keyless{}.Encode(plain)
	if err != nil || !proto.Equal(out[0], plain[0]) {
		t.Fatalf("encode: %v, %v; want the payload unchanged", out, err)
	}
	var p person
	if err := keyless.FromPayload(plain[0], &p); err != nil || p.CitizenID != citizenID {
		t.Fatalf("plain payload: %v, %+v", err, p)
	}
	err = keyless.FromPayload(enc[0], &p)
	want := `payload encrypted with key "k1", and DRIVES_CODEC_KEYS is not set in this process: export DRIVES_CODEC_KEYS=k1:<base64 key>`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("encrypted payload: error %v; want it to say %q", err, want)
	}
	if strings.Contains(err.Error(), "not supported") {
		t.Errorf("error %q still gives the SDK's words", err)
	}
	var wft *converter.WorkflowTaskFailureError
	if !errors.As(err, &wft) {
		t.Errorf("error %T is not a WorkflowTaskFailureError (a worker's task is retried, not its workflow failed)", err)
	}
}
