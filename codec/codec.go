// Package codec encrypts every Temporal payload of the drives with AES-256-GCM, so that what
// the Temporal service stores and shows (workflow inputs and results, activity arguments,
// Update and Query payloads, failure details) is ciphertext unless the reader holds a key.
//
// Keys are configured as an ordered list in DRIVES_CODEC_KEYS:
//
//	DRIVES_CODEC_KEYS=k1:<base64 of 32 bytes>,k2:<base64 of 32 bytes>
//
// The last key is the newest: it encrypts. Every key decrypts, by the key ID each payload
// carries in its metadata, so a key is rotated by appending a new one and keeping the old
// ones for as long as histories encrypted with them are kept. Payloads that are not
// encrypted pass through Decode unchanged, so encryption can be introduced on a running
// system.
//
// A payload whose key this process does not have, or that does not authenticate under the
// key its ID names, gives an error that says so and names the key ID; such errors fail the
// workflow task, not the workflow, so a worker given the right key later carries on.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

const (
	// EnvKeys names the environment variable with the ordered key list.
	EnvKeys = "DRIVES_CODEC_KEYS"
	// EncodingEncrypted is the metadata encoding of an encrypted payload.
	EncodingEncrypted = "binary/encrypted"
	// MetadataKeyID is the metadata key that names the payload's encryption key.
	MetadataKeyID = "encryption-key-id"
	// KeySize is the size of an AES-256 key in bytes.
	KeySize = 32
)

// maxKeyIDLen is the longest key ID: shorter than the base64 of a key.
const maxKeyIDLen = 32

// aadPrefix binds a ciphertext to the key ID it claims, and to this format.
const aadPrefix = "drives-codec/v1 key="

// Key is one named AES-256 key.
type Key struct {
	ID     string
	Secret []byte // KeySize bytes
}

// Codec is a converter.PayloadCodec doing AES-256-GCM with a random nonce per payload.
type Codec struct {
	aeads   map[string]cipher.AEAD
	ids     []string // in configuration order
	current string   // the last: encrypts
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New makes a codec from keys in order, oldest first: the last one encrypts.
func New(keys []Key) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("codec: no key given")
	}
	c := &Codec{aeads: make(map[string]cipher.AEAD, len(keys))}
	for i, k := range keys {
		if err := checkKeyID(k.ID); err != nil {
			return nil, fmt.Errorf("codec: key %d: %w", i+1, err)
		}
		if _, dup := c.aeads[k.ID]; dup {
			return nil, fmt.Errorf("codec: key ID %q is given twice", k.ID)
		}
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("codec: key %q is %d bytes; AES-256 needs %d", k.ID, len(k.Secret), KeySize)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %w", k.ID, err)
		}
		c.aeads[k.ID] = aead
		c.ids = append(c.ids, k.ID)
	}
	c.current = c.ids[len(c.ids)-1]
	return c, nil
}

// ParseKeys reads a key list in the form of DRIVES_CODEC_KEYS: comma-separated entries
// id:base64key, oldest first. Errors name the variable and the entry (by position, and by ID
// once it is known), never the key material.
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	seen := map[string]int{}
	entries := strings.Split(s, ",")
	for i, entry := range entries {
		n := i + 1
		entry = strings.TrimSpace(entry)
		if entry == "" {
			if len(entries) == 1 {
				return nil, fmt.Errorf("%s is set but names no key (want id:base64key,…; `make key` prints one)", EnvKeys)
			}
			return nil, fmt.Errorf("%s: entry %d is empty (want id:base64key, entries separated by commas)", EnvKeys, n)
		}
		id, b64, ok := strings.Cut(entry, ":")
		if !ok {
			// Without a colon the entry may be a bare key: do not repeat any of it.
			return nil, fmt.Errorf("%s: entry %d is not id:base64key (no colon)", EnvKeys, n)
		}
		id, b64 = strings.TrimSpace(id), strings.TrimSpace(b64)
		if err := checkKeyID(id); err != nil {
			return nil, fmt.Errorf("%s: entry %d: %w", EnvKeys, n, err)
		}
		if first, dup := seen[id]; dup {
			return nil, fmt.Errorf("%s: entry %d (%q): key ID %q is also entry %d", EnvKeys, n, id, id, first)
		}
		seen[id] = n
		if b64 == "" {
			return nil, fmt.Errorf("%s: entry %d (%q): the key is empty", EnvKeys, n, id)
		}
		secret, err := decodeBase64(b64)
		if err != nil {
			return nil, fmt.Errorf("%s: entry %d (%q): the key is not base64", EnvKeys, n, id)
		}
		if len(secret) != KeySize {
			return nil, fmt.Errorf("%s: entry %d (%q): the key is %d bytes; AES-256 needs %d (`make key` prints one)",
				EnvKeys, n, id, len(secret), KeySize)
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	return keys, nil
}

// FromEnv makes the codec of DRIVES_CODEC_KEYS; nil, nil when it is unset or empty.
func FromEnv() (*Codec, error) {
	s := os.Getenv(EnvKeys)
	if s == "" {
		return nil, nil
	}
	keys, err := ParseKeys(s)
	if err != nil {
		return nil, err
	}
	return New(keys)
}

// DataConverter is the SDK's default data converter with c encrypting every payload.
func DataConverter(c *Codec) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// Keyless is the payload codec of a process without DRIVES_CODEC_KEYS: it encrypts nothing and
// passes plain payloads through, as no codec does, but an encrypted payload gives a KeyError
// naming its key and DRIVES_CODEC_KEYS instead of the SDK's bare "payload encoding is not
// supported".
type Keyless struct{}

var _ converter.PayloadCodec = Keyless{}

// Encode leaves the payloads as they are.
func (Keyless) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	return payloads, nil
}

// Decode passes plain payloads through and refuses encrypted ones, naming their key.
func (Keyless) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	for _, p := range payloads {
		if p != nil && isEncrypted(p) {
			return payloads, converter.NewWorkflowTaskFailureError(&KeyError{KeyID: string(p.GetMetadata()[MetadataKeyID]), Unknown: true})
		}
	}
	return payloads, nil
}

// KeyIDs are the configured key IDs, oldest first.
func (c *Codec) KeyIDs() []string { return append([]string(nil), c.ids...) }

// CurrentKeyID is the ID of the key that encrypts.
func (c *Codec) CurrentKeyID() string { return c.current }

// Encode encrypts each payload (metadata and data) with the newest key. Payloads already
// encrypted are left as they are.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	aead := c.aeads[c.current]
	for i, p := range payloads {
		if p == nil || isEncrypted(p) {
			out[i] = p
			continue
		}
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("codec: marshal payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return payloads, fmt.Errorf("codec: random nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:              []byte(c.current),
			},
			Data: aead.Seal(nonce, nonce, plain, aad(c.current)),
		}
	}
	return out, nil
}

// Decode decrypts the encrypted payloads with the key each names, and passes the others
// through. Its errors (unknown key ID, failed authentication) name the key ID; they are
// WorkflowTaskFailureErrors, so that in a worker they fail the workflow task and not the
// workflow.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if p == nil || !isEncrypted(p) {
			out[i] = p
			continue
		}
		d, err := c.decrypt(p)
		if err != nil {
			return payloads, converter.NewWorkflowTaskFailureError(err)
		}
		out[i] = d
	}
	return out, nil
}

func (c *Codec) decrypt(p *commonpb.Payload) (*commonpb.Payload, error) {
	raw, ok := p.GetMetadata()[MetadataKeyID]
	if !ok || len(raw) == 0 {
		return nil, fmt.Errorf("encrypted payload names no key (metadata %q missing)", MetadataKeyID)
	}
	id := string(raw)
	aead, ok := c.aeads[id]
	if !ok {
		return nil, &KeyError{KeyID: id, Unknown: true, have: c.ids}
	}
	data := p.GetData()
	if len(data) < aead.NonceSize()+aead.Overhead() {
		return nil, &KeyError{KeyID: id}
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, data[:n], data[n:], aad(id))
	if err != nil {
		return nil, &KeyError{KeyID: id}
	}
	var d commonpb.Payload
	if err := proto.Unmarshal(plain, &d); err != nil {
		return nil, fmt.Errorf("payload decrypted with key %q is not a payload: %w", id, err)
	}
	return &d, nil
}

// KeyError is the error of a payload that cannot be decrypted: its key is unknown here
// (Unknown), or it does not authenticate under the key of its ID (a wrong key configured
// under that ID, or altered data).
type KeyError struct {
	KeyID   string
	Unknown bool
	have    []string
}

func (e *KeyError) Error() string {
	if e.Unknown && len(e.have) == 0 {
		return fmt.Sprintf("payload encrypted with key %q, and %s is not set in this process: "+
			"export %s=%s:<base64 key> (the list the worker has, e.g. from the shell that ran make demo) and run again",
			e.KeyID, EnvKeys, EnvKeys, e.KeyID)
	}
	if e.Unknown {
		return fmt.Sprintf("payload encrypted with key %q, which this process does not have (%s has %s)",
			e.KeyID, EnvKeys, quoteList(e.have))
	}
	return fmt.Sprintf("payload does not decrypt with key %q: wrong key or altered data", e.KeyID)
}

func isEncrypted(p *commonpb.Payload) bool {
	return string(p.GetMetadata()[converter.MetadataEncoding]) == EncodingEncrypted
}

func aad(keyID string) []byte { return []byte(aadPrefix + keyID) }

func checkKeyID(id string) error {
	if id == "" {
		return errors.New("the key ID is empty")
	}
	if len(id) > maxKeyIDLen {
		// Shorter than any base64 key, so that an entry written key:id is never echoed.
		return fmt.Errorf("the key ID is longer than %d characters", maxKeyIDLen)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			// The ID may be a mistyped key: name the rule, not the text.
			return errors.New("the key ID may hold only letters, digits, '-', '_' and '.'")
		}
	}
	return nil
}

// decodeBase64 takes standard or URL-safe base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		var b []byte
		if b, err = enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, err
}

func quoteList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", id)
	}
	return strings.Join(q, ", ")
}
