package main

import (
	"strings"
	"testing"

	"go.temporal.io/sdk/client"

	"drives/codec"
)

// starter without DRIVES_CODEC_KEYS reading a payload the worker encrypted says which key it
// needs and where to give it; with keys, the codec's converter is left as it is.
func TestStarterWithoutKeysNamesTheKey(t *testing.T) {
	keys, err := codec.ParseKeys(testKeys)
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(keys)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := codec.DataConverter(c).ToPayload(map[string]int{"enrolled": 3})
	if err != nil {
		t.Fatal(err)
	}

	var o client.Options
	keylessWhenUnset(&o)
	if o.DataConverter == nil {
		t.Fatal("no data converter without keys")
	}
	var v map[string]int
	err = o.DataConverter.FromPayload(enc, &v)
	if err == nil || !strings.Contains(err.Error(), `key "k1"`) || !strings.Contains(err.Error(), "DRIVES_CODEC_KEYS") {
		t.Fatalf("error %v; want it to name key k1 and DRIVES_CODEC_KEYS", err)
	}

	withKeys := client.Options{DataConverter: codec.DataConverter(c)}
	keylessWhenUnset(&withKeys)
	if err := withKeys.DataConverter.FromPayload(enc, &v); err != nil || v["enrolled"] != 3 {
		t.Fatalf("with keys: %v, %v", v, err)
	}
}
