package imports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"drives/campaign"
	"drives/coordinator"
	"drives/plan"
	"drives/store"
	"drives/units"
)

// Join checks a joining file whole against the campaign (its communes, the codes it has
// had), stages it and applies it by the agents-join Update; a refused Update discards the batch.
func (im *Importer) Join(ctx context.Context, campaignID, name string, data []byte, by string) (campaign.JoinResult, error) {
	co := &coordinator.Coordinator{DB: im.DB, Temporal: im.Temporal}
	var res campaign.JoinResult
	communes := map[string]string{}
	if err := store.ForEachUnit(ctx, co.DB, campaignID, func(u store.UnitRef) error {
		if u.Level == "commune" {
			communes[u.Code] = u.District
		}
		return nil
	}); err != nil {
		return res, err
	}
	if len(communes) == 0 {
		return res, fmt.Errorf("campaign %s has no communes: it is not launched, or is still being prepared", campaignID)
	}
	codes, err := store.CampaignAgentCodes(ctx, co.DB, campaignID)
	if err != nil {
		return res, err
	}
	taken := map[string]bool{}
	for _, c := range codes {
		taken[c] = true
	}
	lines, rejected := CheckJoinFile(name, data, communes, taken)
	if rejected != nil {
		return res, rejected
	}
	batchID := NewBatchID()
	sum := sha256.Sum256(data)
	tx, err := co.DB.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("stage: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit
	if err := store.StageAgents(ctx, tx, store.ImportBatch{ID: batchID, CampaignID: campaignID, FileName: name,
		FileSHA256: hex.EncodeToString(sum[:]), CreatedBy: by}, lines); err != nil {
		return res, err
	}
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("stage: commit: %w", err)
	}
	res, err = coordinator.Update[campaign.JoinResult](ctx, co, campaignID, campaign.UpdateAgentsJoin, campaign.JoinRequest{BatchID: batchID, By: by})
	if err != nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if derr := store.DiscardStagedBatch(dctx, co.DB, batchID); derr != nil {
			return res, fmt.Errorf("%w (and the staged batch %s could not be discarded: %v)", err, batchID, derr)
		}
		return res, fmt.Errorf("%s: %w; nothing joined", name, err)
	}
	return res, nil
}

var (
	joinCodeRe  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$`) // a roster's codes (plan/files.go)
	joinPhoneRe = regexp.MustCompile(`^0[0-9]{9}$`)
	longDigits  = regexp.MustCompile(`[0-9]{9,}`)
)

// shownCode quotes a value that looks like a code, and nothing else: a refusal never repeats a
// phone (or a name) that a shifted column put where a code belongs.
func shownCode(v string) string {
	if !joinCodeRe.MatchString(v) || longDigits.MatchString(v) {
		return ""
	}
	return fmt.Sprintf(" %q", v)
}

// CheckJoinFile checks a joining file whole, as the plan's roster is checked and more: the
// plan's roster header exactly; on each line a code of the roster's form, in the file once and
// new to the campaign (taken: every code it has had), a commune of the campaign, kind agent or
// staff, post_office yes/no, a name, a phone of 10 digits starting with 0, a weight from 0.001
// to 1000 (1 when empty). Every problem is named by line and field, never by a name or phone;
// any problem refuses the file (a non-nil Rejected).
func CheckJoinFile(name string, data []byte, communes map[string]string, taken map[string]bool) ([]store.StagedAgent, *Rejected) {
	rej := &Rejected{File: name}
	bad := func(line int, field, msg string) {
		rej.Errors = append(rej.Errors, LineError{Line: line, Field: field, Msg: msg})
	}
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			bad(1+bytes.Count(data[:i], []byte("\n")), "", "the file is not UTF-8 text")
			return nil, rej
		}
		i += n
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = len(plan.RosterHeader)
	header, err := r.Read()
	if err != nil {
		bad(1, "header", "want "+strconv.Quote(strings.Join(plan.RosterHeader, ",")))
		return nil, rej
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	if !slices.Equal(header, plan.RosterHeader) {
		bad(1, "header", "want "+strconv.Quote(strings.Join(plan.RosterHeader, ",")))
		return nil, rej
	}
	var out []store.StagedAgent
	seen := map[string]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad(pe.Line, "", pe.Err.Error())
				if errors.Is(pe.Err, csv.ErrFieldCount) {
					rej.Rows++
					continue
				}
			} else {
				bad(0, "", err.Error())
			}
			break
		}
		line, _ := r.FieldPos(0)
		rej.Rows++
		f := map[string]string{}
		for i, h := range plan.RosterHeader {
			f[h] = strings.TrimSpace(rec[i])
		}
		a := store.StagedAgent{Line: line, Code: f["code"], Commune: f["commune_code"], Kind: f["kind"],
			FullName: f["full_name"], Phone: f["phone"], Weight: 1}
		n := len(rej.Errors)
		switch {
		case !joinCodeRe.MatchString(a.Code):
			bad(line, "code", "must be 1 to 40 letters, digits, '.', '_' or '-'")
		case seen[a.Code] > 0:
			bad(line, "code", fmt.Sprintf("code%s is also on line %d", shownCode(a.Code), seen[a.Code]))
		case taken[a.Code]:
			bad(line, "code", fmt.Sprintf("the campaign has an agent or staff member%s already (a code is never given twice, even once its holder has left)", shownCode(a.Code)))
		}
		if seen[a.Code] == 0 {
			seen[a.Code] = line
		}
		if communes[a.Commune] == "" {
			bad(line, "commune_code", fmt.Sprintf("unknown commune%s", shownCode(a.Commune)))
		}
		if a.Kind != units.AgentKindAgent && a.Kind != units.AgentKindStaff {
			bad(line, "kind", `must be "agent" or "staff"`)
		}
		switch f["post_office"] {
		case "yes", "true":
			a.PostOffice = true
		case "no", "false", "":
		default:
			bad(line, "post_office", `must be "yes" or "no"`)
		}
		if a.FullName == "" {
			bad(line, "full_name", "must not be empty")
		}
		if !joinPhoneRe.MatchString(a.Phone) {
			bad(line, "phone", "must be 10 digits starting with 0")
		}
		if w := f["weight"]; w != "" {
			v, err := strconv.ParseFloat(w, 64)
			if err != nil || !(v >= 0.001) || v > 1000 {
				bad(line, "weight", "must be a number from 0.001 to 1000")
			} else {
				a.Weight = v
			}
		}
		if len(rej.Errors) == n {
			out = append(out, a)
		}
	}
	if len(rej.Errors) == 0 && len(out) == 0 {
		bad(2, "", "the file lists nobody to join")
	}
	if len(rej.Errors) > 0 {
		return nil, rej
	}
	return out, nil
}
