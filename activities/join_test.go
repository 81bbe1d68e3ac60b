package activities_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"drives/activities"
	"drives/campaign"
	"drives/internal/testenv"
	"drives/store"
)

// stageJoin stages joining lines as `starter agents join` does once the file is checked, and
// returns the batch ID.
func (d *drive) stageJoin(lines ...store.StagedAgent) string {
	d.t.Helper()
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	id := h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
	for i := range lines {
		lines[i].Line = i + 2
	}
	if err := store.StageAgents(d.ctx, d.pool, store.ImportBatch{ID: id, CampaignID: campaignID, FileName: "join.csv",
		FileSHA256: strings.Repeat("0", 64), CreatedBy: "coordinator-a"}, lines); err != nil {
		d.t.Fatal(err)
	}
	return id
}

func (d *drive) join(batch string, at time.Time) campaign.JoinResult {
	d.t.Helper()
	return mustCall[campaign.JoinResult](d, d.acts.AgentsJoin, activities.JoinInput{CampaignID: campaignID, BatchID: batch, By: "coordinator-a", At: at})
}

// An agent joins commune 00001 on 16 April: active from that day, with the commune's target ×
// its weight ÷ everyone's (the three agents', the staff member's and its own) × the 260 days
// of the 365 left; the commune's others give that much, by weight, so its sum stays the same.
// Each change is kept by day; the staged lines (names, phones) are gone; one audit row, with
// counts and no names. The second quarter's review judges the joiner on its 76 days: quota ×
// 76 ÷ 365; the first quarter's does not review it. Shown failing with the joiner given the
// whole year's share (its quota taken as weight ÷ weights × target).
func TestAnAgentJoinsACommune(t *testing.T) {
	d := newDrive(t)
	target := d.quota("commune", "00001")
	before := map[string]int{}
	for _, c := range []string{"CB-00001", "DL-00001-1", "DL-00001-2", "DL-00001-3"} {
		before[c] = d.quota("agent", c)
	}
	batch := d.stageJoin(store.StagedAgent{Code: "DL-00001-9", Commune: "00001", Kind: "agent", PostOffice: true,
		FullName: "Người Mới Chín", Phone: "0911111119", Weight: 1.2})
	res := d.join(batch, local(t, "2021-04-16").Add(9*time.Hour))

	// 1.2 of the weights 0.5 + 1 + 0.8 + 1 + 1.2 = 4.5, for 260 days of 365.
	exact := float64(target) * 1.2 / 4.5 * 260 / 365
	want := int(math.Round(exact))
	if want == 0 {
		t.Fatalf("commune 00001's target %d gives the joiner nothing: the test shows nothing", target)
	}
	if res.Agents != 1 || res.Staff != 0 || res.Communes != 1 || res.QuotaTaken != want || res.QuotasChanged == 0 ||
		!res.JoinedOn.Equal(local(t, "2021-04-16")) {
		t.Errorf("join: %+v; want 1 agent in 1 commune from 2021-04-16 taking %d (%.2f) of the target %d", res, want, exact, target)
	}
	if got := d.quota("agent", "DL-00001-9"); got != want {
		t.Errorf("DL-00001-9's quota %d, want %d", got, want)
	}
	if n := d.count(`select count(*) from agents where campaign_id = $1 and code = 'DL-00001-9' and status = 'active' and joined_on = '2021-04-16'
		and kind = 'agent' and post_office and district_code = '001' and full_name = 'Người Mới Chín' and phone = '0911111119' and weight = 1.2
		and (select target from quotas where campaign_id = $1 and level = 'agent' and code = 'DL-00001-9') = $2`, campaignID, want); n != 1 {
		t.Error("DL-00001-9 is not an active agent of commune 00001 joined on 2021-04-16 with its quota")
	}
	// The others gave the joiner's quota, each by weight, none more than a unit off.
	given := 0
	for code, q := range before {
		now := d.quota("agent", code)
		given += q - now
		if q-now < 0 {
			t.Errorf("%s's quota grew: %d → %d", code, q, now)
		}
	}
	if given != want {
		t.Errorf("the others gave %d, the joiner took %d", given, want)
	}
	if got := d.agentsQuota("00001"); got != target {
		t.Errorf("commune 00001's agents hold %d, its target is %d", got, target)
	}
	if got := d.quota("commune", "00001"); got != target {
		t.Errorf("commune 00001's target changed: %d → %d", target, got)
	}
	// Kept by day: the joiner had nothing before its day; the others their old quota.
	if n := d.count(`select count(*) from quota_targets_by_day where campaign_id = $1 and level = 'agent' and code = 'DL-00001-9'
		and ((valid_from = '2020-12-31' and target = 0) or (valid_from = '2021-04-16' and target = $2))`, campaignID, want); n != 2 {
		t.Errorf("DL-00001-9's quota by day: %d of the 2 rows wanted", n)
	}
	if n := d.count(`select count(*) from staged_agents`); n != 0 {
		t.Errorf("%d staged lines left after the joining", n)
	}
	if n := d.count(`select count(*) from import_batches where id = $1 and status = 'merged' and kind = 'agents'`, batch); n != 1 {
		t.Error("the joining batch is not marked applied")
	}
	rows := d.audit(`action = 'agents.join' and entity_key = $1`, batch)
	if len(rows) != 1 || rows[0].Actor != "coordinator-a" {
		t.Fatalf("audit rows of the joining: %+v, want 1 by coordinator-a", rows)
	}
	if r := string(rows[0].Result); strings.Contains(r, "Người Mới") || strings.Contains(r, "0911111119") {
		t.Errorf("the audit row's result names the joiner: %s", r)
	}
	// The joiner's quota, and what a giver kept, are traced to the joining's audit row.
	joinRow := int64(d.count(`select id from audit_log where action = 'agents.join' and entity_key = $1`, batch))
	for code, q := range map[string]int{"DL-00001-9": want, "DL-00001-1": d.quota("agent", "DL-00001-1")} {
		trace, err := store.AgentQuotaWrites(d.ctx, d.pool, campaignID, code)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(trace, func(w store.TraceWrite) bool {
			return w.AuditID == joinRow && w.What == fmt.Sprintf("joining: quota %d from 2021-04-16", q)
		}) {
			t.Errorf("%s's quota %d is not traced to the joining (audit row %d): %+v", code, q, joinRow, trace)
		}
	}

	// Reviews: not in Q1 (not active then); in Q2 on its 76 days (16 April to 30 June).
	ps := reviewPeriods(t, d)
	d.evaluate(ps[0], policy())
	d.evaluate(ps[1], policy())
	if _, ok := d.quotaShare("2021-Q1", "DL-00001-9"); ok {
		t.Error("Q1 reviewed DL-00001-9, who joined in Q2")
	}
	share, ok := d.quotaShare("2021-Q2", "DL-00001-9")
	if wantShare := float64(want) * 76 / 365; !ok || math.Abs(share-wantShare) > 1e-9 {
		t.Errorf("DL-00001-9's Q2 quota share %v (reviewed %v), want %v (%d × 76 days active ÷ 365)", share, ok, wantShare, want)
	}
	// An agent who gave quota is judged on its old quota for 15 days, the new one for 76.
	old, now := before["DL-00001-1"], d.quota("agent", "DL-00001-1")
	if share, _ := d.quotaShare("2021-Q2", "DL-00001-1"); math.Abs(share-(float64(old)*15+float64(now)*76)/365) > 1e-9 {
		t.Errorf("DL-00001-1's Q2 quota share %v, want (%d × 15 + %d × 76) ÷ 365", share, old, now)
	}

	// The same batch again is refused: applied already.
	_, err := call[campaign.JoinResult](d, d.acts.AgentsJoin, activities.JoinInput{CampaignID: campaignID, BatchID: batch, By: "coordinator-a",
		At: local(t, "2021-04-17")})
	wantErrType(t, err, activities.ErrInvalidState)
}

// Agents and staff joining several communes at once: each commune's sum stays exact, and staff
// are counted as staff.
func TestAgentsJoinSeveralCommunes(t *testing.T) {
	d := newDrive(t)
	targets := map[string]int{}
	for _, c := range []string{"00001", "00002", "00011"} {
		targets[c] = d.quota("commune", c)
	}
	batch := d.stageJoin(
		store.StagedAgent{Code: "DL-00001-8", Commune: "00001", Kind: "agent", FullName: "A", Phone: "0911111118", Weight: 1},
		store.StagedAgent{Code: "DL-00001-9", Commune: "00001", Kind: "agent", FullName: "B", Phone: "0911111119", Weight: 0.5},
		store.StagedAgent{Code: "DL-00002-1", Commune: "00002", Kind: "agent", FullName: "C", Phone: "0911111121", Weight: 1},
		store.StagedAgent{Code: "CB-00011", Commune: "00011", Kind: "staff", FullName: "D", Phone: "0911111131", Weight: 0.5},
	)
	res := d.join(batch, local(t, "2021-07-01").Add(8*time.Hour))
	if res.Agents != 3 || res.Staff != 1 || res.Communes != 3 {
		t.Errorf("join: %+v; want 3 agents and 1 staff member in 3 communes", res)
	}
	for c, target := range targets {
		if got := d.agentsQuota(c); got != target {
			t.Errorf("commune %s's agents hold %d, its target is %d", c, got, target)
		}
	}
	// Commune 00002: staff CB-00002 (0.5) and the joiner (1), 184 days of 365 left.
	if got, want := d.quota("agent", "DL-00002-1"), int(math.Round(float64(targets["00002"])*1/1.5*184/365)); got != want {
		t.Errorf("DL-00002-1's quota %d, want %d", got, want)
	}
}

// A joining batch naming a code the campaign has by now, or a commune it does not know, is
// refused whole, every such line named, and writes nothing.
func TestAJoiningWithATakenCodeIsRefusedWhole(t *testing.T) {
	d := newDrive(t)
	batch := d.stageJoin(
		store.StagedAgent{Code: "DL-00001-9", Commune: "00001", Kind: "agent", FullName: "A", Phone: "0911111119", Weight: 1},
		store.StagedAgent{Code: "DL-00001-1", Commune: "00001", Kind: "agent", FullName: "B", Phone: "0911111118", Weight: 1},
		store.StagedAgent{Code: "DL-00099-1", Commune: "00099", Kind: "agent", FullName: "C", Phone: "0911111117", Weight: 1},
	)
	before := testenv.Fingerprint(t, d.pool)
	_, err := call[campaign.JoinResult](d, d.acts.AgentsJoin, activities.JoinInput{CampaignID: campaignID, BatchID: batch, By: "coordinator-a",
		At: local(t, "2021-04-16")})
	wantErrType(t, err, activities.ErrInvalidImport)
	for _, want := range []string{`line 3: code: "DL-00001-1" is already an agent or staff member of the campaign`, `line 4: commune_code: unknown commune "00099"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "0911111") {
		t.Errorf("the refusal quotes a phone: %v", err)
	}
	if after := testenv.Fingerprint(t, d.pool); !maps.Equal(after, before) {
		t.Errorf("a refused joining changed the database: %v, was %v", after, before)
	}
}

// A joining batch staged and never applied (its command died before the Update) is deleted
// with its lines, names and phones, by the retention of staged imports, as an import's is.
func TestAStagedJoiningIsDeletedByTheImportsRetention(t *testing.T) {
	d := newDrive(t)
	old := d.stageJoin(store.StagedAgent{Code: "DL-00001-9", Commune: "00001", Kind: "agent", FullName: "Người Bỏ Dở", Phone: "0911111119", Weight: 1})
	recent := d.stageJoin(store.StagedAgent{Code: "DL-00001-8", Commune: "00001", Kind: "agent", FullName: "Người Mới", Phone: "0911111118", Weight: 1})
	d.exec(`update import_batches set recorded_at = now() - interval '8 days' where id = $1`, old)
	before := time.Now().Add(-activities.DefaultImportRetention)
	res := mustCall[activities.ExpireImportsResult](d, d.acts.ExpireImports,
		activities.ExpireImportsInput{CampaignID: campaignID, Before: before, Retention: activities.DefaultImportRetention})
	if len(res.Batches) != 1 || res.Batches[0].ID != old || res.Batches[0].Kind != "agents" {
		t.Fatalf("expired %+v, want the joining batch %s", res, old)
	}
	if n := d.count(`select count(*) from staged_agents where batch_id = $1`, old); n != 0 {
		t.Errorf("%d staged lines of the expired joining batch are still there", n)
	}
	if n := d.count(`select count(*) from staged_agents where batch_id = $1`, recent); n != 1 {
		t.Errorf("%d staged lines of the recent joining batch, want 1", n)
	}
	if n := d.count(`select count(*) from audit_log where result::text like '%Người%' or result::text like '%0911111%'`); n != 0 {
		t.Error("the audit log holds a joiner's name or phone")
	}
}
