// Package accounts keeps the accounts of the people who work the drive, in PostgreSQL: their
// role, the campaign and units it is bound to (store.Scope), their password (bcrypt) and
// optional API token (SHA-256), and whether they are disabled. Every change is made in one
// transaction with its audit row (entity "account", the accounts' own chain: campaign "").
// `starter users` manages them; the web page signs people in with them.
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"drives/plan"
	"drives/store"
)

// Roles. Each account has one.
const (
	// RoleAdmin manages accounts and sees no campaign's data.
	RoleAdmin = "admin"
	// RoleCoordinator is the city's coordinator: every unit, and acts.
	RoleCoordinator = "coordinator"
	// RoleDistrict is a district officer: their districts, where they decide terminations and
	// add events.
	RoleDistrict = "district"
	// RoleCommune is commune staff: their communes, where they add events.
	RoleCommune = "commune"
	// RoleAgent is a collection agent: their own work, read only.
	RoleAgent = "agent"
	// RoleAuditor reads every unit, or only some, and changes nothing.
	RoleAuditor = "auditor"
)

// Roles are every role, in the order they are listed.
var Roles = []string{RoleAdmin, RoleCoordinator, RoleDistrict, RoleCommune, RoleAgent, RoleAuditor}

// Account is an account as read from the database.
type Account = store.Account

// ScopeOf is the part of the drive an account sees.
func ScopeOf(a Account) store.Scope {
	return store.Scope{Campaign: a.CampaignID, Districts: a.Districts, Communes: a.Communes, Agent: a.AgentCode}
}

var nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ValidName says whether a name can name an account: lower-case letters, digits, '.', '_'
// and '-', starting with a letter or digit, at most 64.
func ValidName(name string) bool { return nameRe.MatchString(name) }

// Spec is a new account: who, in which role, bound to what.
type Spec struct {
	Name      string
	Role      string
	Campaign  string   // "": every campaign
	Districts []string // district officers, auditors limited to units
	Communes  []string // commune staff, auditors limited to units
	Agent     string   // agents: their roster code
	// Token, when set, is the account's API bearer token (kept as its SHA-256).
	Token string
}

// Check names every problem of a spec by its flag; it reads nothing.
func (s Spec) Check() error {
	var errs []error
	if !ValidName(s.Name) {
		errs = append(errs, fmt.Errorf("--name: %q is not lower-case letters, digits, '.', '_' or '-' (at most 64)", s.Name))
	}
	if !slices.Contains(Roles, s.Role) {
		errs = append(errs, fmt.Errorf("--role: %q is not one of %s", s.Role, strings.Join(Roles, ", ")))
	}
	if s.Campaign != "" && !plan.ValidCampaignID(s.Campaign) {
		errs = append(errs, fmt.Errorf("--campaign: %q is not a campaign id", s.Campaign))
	}
	units := len(s.Districts) + len(s.Communes)
	switch s.Role {
	case RoleDistrict:
		if len(s.Districts) == 0 || len(s.Communes) > 0 {
			errs = append(errs, errors.New("a district officer needs --district (one or more) and no --commune"))
		}
	case RoleCommune:
		if len(s.Communes) == 0 || len(s.Districts) > 0 {
			errs = append(errs, errors.New("commune staff need --commune (one or more) and no --district"))
		}
	case RoleAuditor:
	default:
		if units > 0 {
			errs = append(errs, fmt.Errorf("--district and --commune: a %s is not bound to units", s.Role))
		}
	}
	if (s.Role == RoleAgent) != (s.Agent != "") {
		errs = append(errs, errors.New("--agent: an agent's account names their roster code, and only an agent's does"))
	}
	for _, c := range append(slices.Clone(s.Districts), s.Communes...) {
		if c == "" || len(c) > 32 || strings.ContainsAny(c, " \t,;") {
			errs = append(errs, fmt.Errorf("--district/--commune: %q is not a unit code", c))
		}
	}
	if s.Token != "" && len(s.Token) < 20 {
		errs = append(errs, errors.New("--token: use at least 20 characters"))
	}
	return errors.Join(errs...)
}

// Store is the accounts' database.
type Store struct {
	DB store.Beginner
}

// Add creates an account with a one-time password, which it returns: the account signs in
// with it only to choose its own. by names who made it, for the audit row. Units, the
// campaign and an agent's code must exist.
func (s *Store) Add(ctx context.Context, by string, spec Spec) (password string, err error) {
	if err := spec.Check(); err != nil {
		return "", err
	}
	password = NewSecret()
	hash, err := oneTimeHash(password)
	if err != nil {
		return "", err
	}
	a := Account{Name: spec.Name, Role: spec.Role, CampaignID: spec.Campaign, AgentCode: spec.Agent,
		Districts: spec.Districts, Communes: spec.Communes, PasswordHash: hash, MustChange: true}
	if spec.Token != "" {
		a.TokenSHA256 = TokenHash(spec.Token)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := checkBindings(ctx, tx, spec); err != nil {
			return err
		}
		if err := store.InsertAccount(ctx, tx, a); err != nil {
			if errors.Is(err, store.ErrAccountExists) {
				return fmt.Errorf("--name: an account %q exists already", spec.Name)
			}
			return err
		}
		return audit(ctx, tx, by, "account.add", a.Name, map[string]any{"role": a.Role, "campaign": a.CampaignID,
			"districts": a.Districts, "communes": a.Communes, "agent": a.AgentCode, "token": a.TokenSHA256 != ""})
	})
	if err != nil {
		return "", err
	}
	return password, nil
}

// checkBindings checks that what a spec binds the account to exists.
func checkBindings(ctx context.Context, db store.DB, spec Spec) error {
	var errs []error
	if spec.Campaign != "" {
		if _, err := store.CampaignHeaderOf(ctx, db, spec.Campaign); errors.Is(err, store.ErrNoCampaign) {
			errs = append(errs, fmt.Errorf("--campaign: no campaign %q", spec.Campaign))
		} else if err != nil {
			return err
		}
	}
	in := "any campaign"
	if spec.Campaign != "" {
		in = "campaign " + spec.Campaign
	}
	for _, l := range []struct {
		level string
		codes []string
	}{{"district", spec.Districts}, {"commune", spec.Communes}} {
		if len(l.codes) == 0 {
			continue
		}
		missing, err := store.MissingUnits(ctx, db, l.level, spec.Campaign, l.codes)
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			errs = append(errs, fmt.Errorf("--%s: %s has no %s %s", l.level, in, l.level, strings.Join(missing, ", ")))
		}
	}
	if spec.Agent != "" {
		ok, err := store.HasAgent(ctx, db, spec.Campaign, spec.Agent)
		if err != nil {
			return err
		}
		if !ok {
			errs = append(errs, fmt.Errorf("--agent: the roster of %s has no agent %q", in, spec.Agent))
		}
	}
	return errors.Join(errs...)
}

// Disable stops an account signing in and ends its sessions; Enable lets it sign in again.
func (s *Store) Disable(ctx context.Context, by, name string) error {
	return s.setDisabled(ctx, by, name, true)
}

// Enable lets a disabled account sign in again.
func (s *Store) Enable(ctx context.Context, by, name string) error {
	return s.setDisabled(ctx, by, name, false)
}

func (s *Store) setDisabled(ctx context.Context, by, name string, disabled bool) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		a, err := lock(ctx, tx, name)
		if err != nil {
			return err
		}
		if a.Disabled == disabled {
			return nil
		}
		if err := store.SetAccountDisabled(ctx, tx, name, disabled); err != nil {
			return err
		}
		action, detail := "account.enable", map[string]any{}
		if disabled {
			action = "account.disable"
			n, err := store.EndUserWebSessions(ctx, tx, name)
			if err != nil {
				return err
			}
			detail["sessions_ended"] = n
		}
		return audit(ctx, tx, by, action, name, detail)
	})
}

// ResetPassword gives an account a new one-time password, which it returns, and ends its
// sessions.
func (s *Store) ResetPassword(ctx context.Context, by, name string) (string, error) {
	password := NewSecret()
	hash, err := oneTimeHash(password)
	if err != nil {
		return "", err
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := lock(ctx, tx, name); err != nil {
			return err
		}
		if err := store.SetAccountPassword(ctx, tx, name, hash, true); err != nil {
			return err
		}
		n, err := store.EndUserWebSessions(ctx, tx, name)
		if err != nil {
			return err
		}
		return audit(ctx, tx, by, "account.reset-password", name, map[string]any{"sessions_ended": n})
	})
	if err != nil {
		return "", err
	}
	return password, nil
}

// MinPassword is the shortest password a person may choose.
const MinPassword = 10

// ChangePassword sets the password a person chose for their own account, checked against
// their current one; their one-time password no longer works.
func (s *Store) ChangePassword(ctx context.Context, name, current, chosen string) error {
	if len(chosen) < MinPassword {
		return fmt.Errorf("new password: use at least %d characters", MinPassword)
	}
	if chosen == current {
		return errors.New("new password: choose one other than the current password")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(chosen), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("new password: %w", err)
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		a, err := lock(ctx, tx, name)
		if err != nil {
			return err
		}
		if a.Disabled || bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(current)) != nil {
			return ErrWrongPassword
		}
		if err := store.SetAccountPassword(ctx, tx, name, string(hash), false); err != nil {
			return err
		}
		return audit(ctx, tx, name, "account.change-password", name, map[string]any{})
	})
}

// ErrWrongPassword is a password that does not match.
var ErrWrongPassword = errors.New("the current password is not right")

// Issued is an account made by Import, with its one-time password.
type Issued struct {
	Name     string
	Role     string
	Unit     string // their commune
	Password string
}

// Imported is what Import did: the accounts it made, with their one-time passwords; the
// accounts of last year's roster it moved to the campaign; and the names it left as they are.
type Imported struct {
	Issued []Issued
	// Moved are accounts of the same person and post bound to another campaign (last year's
	// roster): now bound to this one, their passwords kept.
	Moved []string
	// Existing already see the campaign (bound to it, or to every campaign).
	Existing int
	// Differ are accounts of the name whose role or unit is not the roster's (staff moved to
	// another commune, an agent become staff, a name taken by hand): left as they are, for an
	// administrator to look at.
	Differ []string
}

// Import makes an account for each active agent and staff member of a campaign's roster who
// has none: agents (role agent, their own work) and staff (commune staff of their commune),
// named by their roster code in lower case, bound to the campaign, each with a one-time
// password. The accounts of the same people in the same posts bound to another campaign (year
// after year, the roster keeps its codes) are moved to this one; any other account of a roster
// name is left as it is, and named.
func (s *Store) Import(ctx context.Context, by, campaignID string) (*Imported, error) {
	if !plan.ValidCampaignID(campaignID) {
		return nil, fmt.Errorf("campaign %q: not a campaign id", campaignID)
	}
	out := &Imported{}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		*out = Imported{}
		if _, err := store.CampaignHeaderOf(ctx, tx, campaignID); errors.Is(err, store.ErrNoCampaign) {
			return fmt.Errorf("no campaign %q", campaignID)
		} else if err != nil {
			return err
		}
		roster, err := store.RosterMembers(ctx, tx, campaignID)
		if err != nil {
			return err
		}
		names := make([]string, len(roster))
		codeOf := map[string]string{}
		for i, m := range roster {
			names[i] = strings.ToLower(m.Code)
			if !ValidName(names[i]) {
				return fmt.Errorf("roster of %s: agent code %q cannot name an account (lower-case letters, digits, '.', '_', '-')", campaignID, m.Code)
			}
			if other, dup := codeOf[names[i]]; dup {
				return fmt.Errorf("roster of %s: agent codes %q and %q name the same account %q", campaignID, other, m.Code, names[i])
			}
			codeOf[names[i]] = m.Code
		}
		have, err := store.AccountsNamed(ctx, tx, names)
		if err != nil {
			return err
		}
		var accs []Account
		for i, m := range roster {
			a := Account{Name: names[i], CampaignID: campaignID, MustChange: true}
			if m.Kind == "staff" {
				a.Role, a.Communes = RoleCommune, []string{m.Commune}
			} else {
				a.Role, a.AgentCode = RoleAgent, m.Code
			}
			if old, ok := have[a.Name]; ok {
				switch {
				case old.Role != a.Role || old.AgentCode != a.AgentCode || !slices.Equal(old.Communes, a.Communes) || len(old.Districts) > 0:
					out.Differ = append(out.Differ, a.Name)
				case old.CampaignID == "" || old.CampaignID == campaignID:
					out.Existing++
				default:
					out.Moved = append(out.Moved, a.Name)
				}
				continue
			}
			password := NewSecret()
			if a.PasswordHash, err = oneTimeHash(password); err != nil {
				return err
			}
			accs = append(accs, a)
			out.Issued = append(out.Issued, Issued{Name: a.Name, Role: a.Role, Unit: m.Commune, Password: password})
		}
		if err := store.InsertAccounts(ctx, tx, accs); err != nil {
			return err
		}
		if len(out.Moved) > 0 {
			if err := store.SetAccountsCampaign(ctx, tx, out.Moved, campaignID); err != nil {
				return err
			}
		}
		return audit(ctx, tx, by, "account.import", campaignID, map[string]any{"campaign": campaignID,
			"added": len(accs), "moved": out.Moved, "existing": out.Existing, "differ": out.Differ})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SignIn returns the enabled account of this name and password; nil when there is none, the
// password is wrong or the account is disabled. It takes as long for an unknown name.
func SignIn(ctx context.Context, db store.DB, name, password string) (*Account, error) {
	a, err := store.AccountByName(ctx, db, name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.PasswordHash == "") {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(password)) != nil || a.Disabled {
		return nil, nil
	}
	return &a, nil
}

// ByToken returns the enabled account whose API token this is; nil when none.
func ByToken(ctx context.Context, db store.DB, token string) (*Account, error) {
	return enabled(store.AccountByToken(ctx, db, TokenHash(token)))
}

// Enabled returns the account of this name while it is enabled; nil otherwise (a session's
// account is read again at every request, so disabling it takes effect at once).
func Enabled(ctx context.Context, db store.DB, name string) (*Account, error) {
	return enabled(store.AccountByName(ctx, db, name))
}

// enabled is an account read, unless there was none or it is disabled (nil).
func enabled(a Account, err error) (*Account, error) {
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil || a.Disabled {
		return nil, err
	}
	return &a, nil
}

// dummyHash is compared against when a name is unknown.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password"), bcrypt.DefaultCost)

// oneTimeHash hashes a generated one-time password. It is 24 random bytes, not a word a
// person chose, so bcrypt's least cost guards it as well as any: it keeps a roster of 200,000
// accounts to minutes, not hours.
func oneTimeHash(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// NewSecret is a random one-time password or token: 24 random bytes in base64url.
func NewSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TokenHash is the hex SHA-256 an API token is kept as.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func lock(ctx context.Context, tx pgx.Tx, name string) (Account, error) {
	a, err := store.LockAccount(ctx, tx, name)
	if errors.Is(err, store.ErrNotFound) {
		return a, fmt.Errorf("no account %q", name)
	}
	return a, err
}

func audit(ctx context.Context, tx pgx.Tx, by, action, key string, detail map[string]any) error {
	body, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	return store.InsertAuditRow(ctx, tx, store.AuditRow{CampaignID: AuditChain, Actor: by, Action: action,
		Entity: "account", EntityKey: key, Detail: body})
}

// AuditChain is the audit log's chain of account changes (a campaign ID no campaign has).
const AuditChain = ""

func (s *Store) inTx(ctx context.Context, f func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.DB, f)
}
