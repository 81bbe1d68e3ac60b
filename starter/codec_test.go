package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var testKeys = "k1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))

// The codec server refuses to start without keys or without a token, naming what is missing.
func TestCodecServerRefuses(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(short, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		keys, token string
		args        []string
		want        string
	}{
		{"", "a-long-enough-token-123", nil, "DRIVES_CODEC_KEYS is not set"},
		{"k1:abc", "a-long-enough-token-123", nil, `DRIVES_CODEC_KEYS: entry 1 ("k1"): the key is 2 bytes`},
		{testKeys, "", nil, "no bearer token: give --token-file or set DRIVES_CODEC_TOKEN"},
		{testKeys, "short", nil, "DRIVES_CODEC_TOKEN is 5 characters; use at least 16"},
		{testKeys, "", []string{"--token-file", filepath.Join(dir, "missing")}, "--token-file: open"},
		{testKeys, "", []string{"--token-file", empty}, "the file is empty"},
		{testKeys, "", []string{"--token-file", short}, "the token is 3 characters"},
		{testKeys, "a-long-enough-token-123", []string{"--ui-origin", "127.0.0.1:8233"}, `Web UI origin "127.0.0.1:8233"`},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			t.Setenv("DRIVES_CODEC_KEYS", c.keys)
			t.Setenv(EnvCodecToken, c.token)
			root := rootCommand()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs(append([]string{"codec-server", "--addr", "127.0.0.1:0"}, c.args...))
			err := root.Execute()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if strings.Contains(err.Error(), "a-long-enough-token-123") {
				t.Fatalf("error %q repeats the token", err)
			}
		})
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The codec server serves /healthz openly and /decode with the token from --token-file, and
// stops when its context ends.
func TestCodecServerServes(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	tokenFile := filepath.Join(t.TempDir(), "codec-token")
	const token = "file-token-0123456789abcdef"
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DRIVES_CODEC_KEYS", testKeys)
	t.Setenv(EnvCodecToken, "")
	t.Setenv("TEMPORAL_UI", "http://127.0.0.1:18233")

	ctx, cancel := context.WithCancel(context.Background())
	root := rootCommand()
	out := &syncBuffer{}
	root.SetOut(out)
	root.SetErr(out)
	root.SetArgs([]string{"codec-server", "--addr", addr, "--token-file", tokenFile})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("codec-server: %v", err)
		}
		if !strings.Contains(out.String(), "codec server: stopped") {
			t.Errorf("output %q", out.String())
		}
	}()

	base := "http://" + addr
	var resp *http.Response
	for i := 0; ; i++ {
		if resp, err = http.Get(base + "/healthz"); err == nil {
			break
		}
		if i > 100 {
			t.Fatalf("codec server did not answer: %v; output %q", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %d", resp.StatusCode)
	}
	post := func(auth string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/decode", strings.NewReader(`{"payloads":[]}`))
		req.Header.Set("Origin", "http://127.0.0.1:18233")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin") + " " + string(b)
	}
	if code, _ := post(""); code != http.StatusUnauthorized {
		t.Fatalf("/decode without token: %d", code)
	}
	if code, body := post("Bearer " + token); code != http.StatusOK || !strings.HasPrefix(body, "http://127.0.0.1:18233 ") {
		t.Fatalf("/decode with token: %d %q (the UI origin comes from TEMPORAL_UI)", code, body)
	}
	if o := out.String(); !strings.Contains(o, `new payloads use "k1"`) || strings.Contains(o, token) {
		t.Fatalf("output %q", o)
	}
}
