package web

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/bcrypt"

	"drives/accounts"
)

// Roles of the users file, which bootstraps the first city coordinators and auditors before
// their accounts are made in the database (starter users): a coordinator acts on every
// campaign and unit, an auditor reads everything and changes nothing. Accounts have more
// roles (package accounts).
const (
	RoleCoordinator = accounts.RoleCoordinator
	RoleAuditor     = accounts.RoleAuditor
)

// EnvUsers names the environment variable naming the users file.
const EnvUsers = "DRIVES_WEB_USERS"

// User is one entry of the users file.
type User struct {
	Name string `yaml:"name"`
	Role string `yaml:"role"`
	// PasswordHash is the bcrypt hash of the password the page's login form takes.
	PasswordHash string `yaml:"password_bcrypt,omitempty"`
	// TokenSHA256 is the hex SHA-256 of a bearer token for the API (Authorization: Bearer).
	TokenSHA256 string `yaml:"token_sha256,omitempty"`
}

// Users is the users file:
//
//	users:
//	  - name: lan
//	    role: coordinator        # or auditor
//	    password_bcrypt: "$2a$10$…"
//	    token_sha256: "9f86d0…"  # optional: hex SHA-256 of an API bearer token
type Users struct {
	Users []User `yaml:"users"`
}

var userName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// dummyHash is compared against when a name is unknown, so that a login takes as long for an
// unknown name as for a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password"), bcrypt.DefaultCost)

// LoadUsers reads and checks a users file; every problem is named with its entry.
func LoadUsers(path string) (*Users, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	return ParseUsers(path, data)
}

// ParseUsers reads and checks the text of a users file.
func ParseUsers(name string, data []byte) (*Users, error) {
	var u Users
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&u); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var errs []error
	seen := map[string]bool{}
	for i, e := range u.Users {
		at := fmt.Sprintf("%s: users[%d]", name, i)
		switch {
		case !userName.MatchString(e.Name):
			errs = append(errs, fmt.Errorf("%s: name: %q is not lower-case letters, digits, '.', '_' or '-'", at, e.Name))
		case seen[e.Name]:
			errs = append(errs, fmt.Errorf("%s: name: %q appears twice", at, e.Name))
		}
		seen[e.Name] = true
		if e.Role != RoleCoordinator && e.Role != RoleAuditor {
			errs = append(errs, fmt.Errorf("%s (%s): role: %q is not coordinator or auditor", at, e.Name, e.Role))
		}
		if e.PasswordHash == "" && e.TokenSHA256 == "" {
			errs = append(errs, fmt.Errorf("%s (%s): give password_bcrypt or token_sha256", at, e.Name))
		}
		if e.PasswordHash != "" {
			if _, err := bcrypt.Cost([]byte(e.PasswordHash)); err != nil {
				errs = append(errs, fmt.Errorf("%s (%s): password_bcrypt: not a bcrypt hash (make one with `starter serve user`)", at, e.Name))
			}
		}
		if e.TokenSHA256 != "" {
			if b, err := hex.DecodeString(e.TokenSHA256); err != nil || len(b) != sha256.Size {
				errs = append(errs, fmt.Errorf("%s (%s): token_sha256: not 64 hex digits", at, e.Name))
			}
		}
	}
	if len(u.Users) == 0 {
		errs = append(errs, fmt.Errorf("%s: no users", name))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &u, nil
}

func (u *Users) byName(name string) *User {
	if u == nil {
		return nil
	}
	for i := range u.Users {
		if u.Users[i].Name == name {
			return &u.Users[i]
		}
	}
	return nil
}

// checkPassword returns the user with this name and password, or nil.
func (u *Users) checkPassword(name, password string) *User {
	e := u.byName(name)
	if e == nil || e.PasswordHash == "" {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil
	}
	if bcrypt.CompareHashAndPassword([]byte(e.PasswordHash), []byte(password)) != nil {
		return nil
	}
	return e
}

// checkToken returns the user whose bearer token this is, or nil.
func (u *Users) checkToken(token string) *User {
	if u == nil {
		return nil
	}
	sum := sha256.Sum256([]byte(token))
	got := hex.EncodeToString(sum[:])
	var found *User
	for i := range u.Users {
		if u.Users[i].TokenSHA256 != "" && subtle.ConstantTimeCompare([]byte(strings.ToLower(u.Users[i].TokenSHA256)), []byte(got)) == 1 {
			found = &u.Users[i]
		}
	}
	return found
}

// NewUser makes a users-file entry: the password's bcrypt hash, and with a token, its SHA-256.
func NewUser(name, role, password, token string) (User, error) {
	u := User{Name: name, Role: role}
	if !userName.MatchString(name) {
		return u, fmt.Errorf("--name: %q is not lower-case letters, digits, '.', '_' or '-'", name)
	}
	if role != RoleCoordinator && role != RoleAuditor {
		return u, fmt.Errorf("--role: %q is not coordinator or auditor", role)
	}
	if len(password) < 10 {
		return u, errors.New("password: use at least 10 characters")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return u, err
	}
	u.PasswordHash = string(h)
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		u.TokenSHA256 = hex.EncodeToString(sum[:])
	}
	return u, nil
}

// AddUser writes the entry into the users file at path (created readable by its owner only),
// replacing an entry of the same name.
func AddUser(path string, u User) error {
	var all Users
	if data, err := os.ReadFile(path); err == nil {
		got, err := ParseUsers(path, data)
		if err != nil {
			return err
		}
		all = *got
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("users file: %w", err)
	}
	if e := all.byName(u.Name); e != nil {
		*e = u
	} else {
		all.Users = append(all.Users, u)
	}
	out, err := yaml.Marshal(all)
	if err != nil {
		return err
	}
	head := "# Users of the drives web page (starter serve --users). Entries: name, role (coordinator | auditor),\n" +
		"# password_bcrypt, optional token_sha256 (API bearer token). Made by `starter serve user`.\n"
	return os.WriteFile(path, append([]byte(head), out...), 0o600)
}

// RandomSecret is a random string for a password or token.
func RandomSecret() string { return randomToken(24) }

// randomToken is n random bytes in base64url: secrets, session IDs, CSRF tokens.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
