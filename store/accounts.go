package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Account is a person's account (tables accounts and account_units, migration 013).
type Account struct {
	Name         string    `json:"name"`
	Role         string    `json:"role"`
	CampaignID   string    `json:"campaign,omitempty"` // "": every campaign
	AgentCode    string    `json:"agent,omitempty"`
	Districts    []string  `json:"districts,omitempty"`
	Communes     []string  `json:"communes,omitempty"`
	PasswordHash string    `json:"-"`
	TokenSHA256  string    `json:"-"`
	MustChange   bool      `json:"must_change"`
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ErrAccountExists is returned, wrapped, when an account of the name already exists.
var ErrAccountExists = errors.New("account exists")

const accountColumns = `a.name, a.role, coalesce(a.campaign_id, ''), coalesce(a.agent_code, ''),
	coalesce(array(select code from account_units where account = a.name and level = 'district' order by code), '{}'),
	coalesce(array(select code from account_units where account = a.name and level = 'commune' order by code), '{}'),
	coalesce(a.password_hash, ''), coalesce(a.token_sha256, ''), a.must_change, a.disabled_at is not null,
	a.created_at, a.updated_at`

func scanAccount(r pgx.CollectableRow) (Account, error) {
	var a Account
	return a, r.Scan(&a.Name, &a.Role, &a.CampaignID, &a.AgentCode, &a.Districts, &a.Communes, &a.PasswordHash,
		&a.TokenSHA256, &a.MustChange, &a.Disabled, &a.CreatedAt, &a.UpdatedAt)
}

func oneAccount(ctx context.Context, db DB, what, where string, arg any) (Account, error) {
	rows, err := db.Query(ctx, `select `+accountColumns+` from accounts a where `+where, arg)
	if err != nil {
		return Account{}, fmt.Errorf("read account: %w", err)
	}
	a, err := pgx.CollectExactlyOneRow(rows, scanAccount)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, fmt.Errorf("account %s: %w", what, ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("read account: %w", err)
	}
	return a, nil
}

// AccountByName reads an account; ErrNotFound when there is none of the name.
func AccountByName(ctx context.Context, db DB, name string) (Account, error) {
	return oneAccount(ctx, db, name, `a.name = $1`, name)
}

// AccountByToken reads the account whose bearer token has this SHA-256 (hex); ErrNotFound
// when none has.
func AccountByToken(ctx context.Context, db DB, tokenSHA256 string) (Account, error) {
	return oneAccount(ctx, db, "of the token", `a.token_sha256 = $1`, tokenSHA256)
}

// LockAccount reads an account and locks its row until the transaction ends.
func LockAccount(ctx context.Context, db DB, name string) (Account, error) {
	return oneAccount(ctx, db, name, `a.name = $1 for update`, name)
}

// InsertAccount adds an account and its units; ErrAccountExists when the name is taken.
func InsertAccount(ctx context.Context, db DB, a Account) error {
	_, err := db.Exec(ctx, `insert into accounts (name, role, campaign_id, agent_code, password_hash, token_sha256, must_change)
		values ($1, $2, nullif($3, ''), nullif($4, ''), nullif($5, ''), nullif($6, ''), $7)`,
		a.Name, a.Role, a.CampaignID, a.AgentCode, a.PasswordHash, a.TokenSHA256, a.MustChange)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "accounts_pkey" {
		return fmt.Errorf("account %s: %w", a.Name, ErrAccountExists)
	}
	if err != nil {
		return fmt.Errorf("add account %s: %w", a.Name, err)
	}
	if _, err := db.Exec(ctx, `insert into account_units (account, level, code)
		select $1, 'district', unnest($2::text[]) union select $1, 'commune', unnest($3::text[])`,
		a.Name, a.Districts, a.Communes); err != nil {
		return fmt.Errorf("add units of account %s: %w", a.Name, err)
	}
	return nil
}

// SetAccountPassword replaces an account's password hash; mustChange marks it one-time.
func SetAccountPassword(ctx context.Context, db DB, name, hash string, mustChange bool) error {
	if _, err := db.Exec(ctx, `update accounts set password_hash = $2, must_change = $3, updated_at = now() where name = $1`,
		name, hash, mustChange); err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	return nil
}

// SetAccountDisabled disables or enables an account.
func SetAccountDisabled(ctx context.Context, db DB, name string, disabled bool) error {
	if _, err := db.Exec(ctx, `update accounts set disabled_at = case when $2 then coalesce(disabled_at, now()) end,
		updated_at = now() where name = $1`, name, disabled); err != nil {
		return fmt.Errorf("disable account %s: %w", name, err)
	}
	return nil
}

// AccountQuery asks for a page of accounts, by name; Role "" means any.
type AccountQuery struct {
	Role   string
	Offset int
	Limit  int
}

// Accounts lists a page of accounts by name.
func Accounts(ctx context.Context, db DB, q AccountQuery) ([]Account, error) {
	rows, err := db.Query(ctx, `select `+accountColumns+` from accounts a where $1 = '' or a.role = $1
		order by a.name offset $2 limit $3`, q.Role, q.Offset, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanAccount)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return out, nil
}

// MissingUnits are the codes of a level (district or commune) that no campaign has, or, with
// a campaign, that campaign has not.
func MissingUnits(ctx context.Context, db DB, level, campaignID string, codes []string) ([]string, error) {
	rows, err := db.Query(ctx, `select c from unnest($3::text[]) c
		where not exists (select 1 from units u where u.level = $1 and u.code = c and ($2 = '' or u.campaign_id = $2))
		order by c`, level, campaignID, codes)
	if err != nil {
		return nil, fmt.Errorf("check units: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("check units: %w", err)
	}
	return out, nil
}

// HasAgent says whether a campaign's roster (any campaign's, with campaignID "") has an agent
// or staff member of the code.
func HasAgent(ctx context.Context, db DB, campaignID, code string) (bool, error) {
	var ok bool
	if err := db.QueryRow(ctx, `select exists (select 1 from agents where code = $2 and ($1 = '' or campaign_id = $1))`,
		campaignID, code).Scan(&ok); err != nil {
		return false, fmt.Errorf("check agent: %w", err)
	}
	return ok, nil
}

// RosterMember is an agent or staff member of a campaign's roster, for their account.
type RosterMember struct {
	Code    string
	Kind    string // agent | staff
	Commune string
}

// RosterMembers lists a campaign's agents and staff who are active, by code.
func RosterMembers(ctx context.Context, db DB, campaignID string) ([]RosterMember, error) {
	rows, err := db.Query(ctx, `select code, kind, commune_code from agents
		where campaign_id = $1 and status = 'active' order by code`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("read roster: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RosterMember, error) {
		var m RosterMember
		return m, r.Scan(&m.Code, &m.Kind, &m.Commune)
	})
	if err != nil {
		return nil, fmt.Errorf("read roster: %w", err)
	}
	return out, nil
}

// AccountsNamed reads the accounts of these names that exist, by name.
func AccountsNamed(ctx context.Context, db DB, names []string) (map[string]Account, error) {
	rows, err := db.Query(ctx, `select `+accountColumns+` from accounts a where a.name = any($1)`, names)
	if err != nil {
		return nil, fmt.Errorf("read accounts: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanAccount)
	if err != nil {
		return nil, fmt.Errorf("read accounts: %w", err)
	}
	out := make(map[string]Account, len(list))
	for _, a := range list {
		out[a.Name] = a
	}
	return out, nil
}

// SetAccountsCampaign binds accounts to a campaign.
func SetAccountsCampaign(ctx context.Context, db DB, names []string, campaignID string) error {
	if _, err := db.Exec(ctx, `update accounts set campaign_id = $2, updated_at = now() where name = any($1)`, names, campaignID); err != nil {
		return fmt.Errorf("bind accounts to %s: %w", campaignID, err)
	}
	return nil
}

// InsertAccounts adds many new accounts and their units by COPY (a roster's; a load test's,
// with API tokens).
func InsertAccounts(ctx context.Context, db DB, accs []Account) error {
	if len(accs) == 0 {
		return nil
	}
	var units [][]any
	if _, err := db.CopyFrom(ctx, pgx.Identifier{"accounts"},
		[]string{"name", "role", "campaign_id", "agent_code", "password_hash", "token_sha256", "must_change"},
		pgx.CopyFromSlice(len(accs), func(i int) ([]any, error) {
			a := accs[i]
			for _, c := range a.Districts {
				units = append(units, []any{a.Name, "district", c})
			}
			for _, c := range a.Communes {
				units = append(units, []any{a.Name, "commune", c})
			}
			return []any{a.Name, a.Role, nullIfEmpty(a.CampaignID), nullIfEmpty(a.AgentCode), nullIfEmpty(a.PasswordHash),
				nullIfEmpty(a.TokenSHA256), a.MustChange}, nil
		})); err != nil {
		return fmt.Errorf("add accounts: %w", err)
	}
	if _, err := db.CopyFrom(ctx, pgx.Identifier{"account_units"}, []string{"account", "level", "code"}, pgx.CopyFromRows(units)); err != nil {
		return fmt.Errorf("add accounts' units: %w", err)
	}
	return nil
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
