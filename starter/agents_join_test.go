package main

import (
	"context"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	"drives/activities"
	"drives/campaign"
	"drives/coordinator"
	"drives/imports"
	"drives/internal/fixture"
	"drives/internal/testenv"
	"drives/workflows"
)

const joinHeader = "code,commune_code,kind,post_office,full_name,phone,weight\n"

// A joining file is checked whole: every bad line and field is named, by line, with no name or
// phone in the refusal, and nothing is returned to stage.
func TestJoinFileIsCheckedWhole(t *testing.T) {
	communes := map[string]string{"00001": "001", "00002": "001"}
	taken := map[string]bool{"DL-00001-1": true}
	file := joinHeader +
		"DL-00001-9,00001,agent,yes,Người Mới Chín,0911111119,1.2\n" + // good
		"DL-00001-1,00001,agent,no,Người Trùng Mã,0911111118,1\n" + // a code the campaign has
		"DL-00099-1,00099,agent,no,Người Xã Lạ,0911111117,1\n" + // an unknown commune
		"DL-00001-8,00001,boss,maybe,Người Sai Loại,12345,0\n" + // kind, post_office, phone, weight
		"DL-00001-9,00002,staff,no,,0911111116,\n" + // twice in the file, no name
		"0911111115,00001,agent,no,Người Lệch Cột\n" + // a line short of fields
		"DL-00002-1,00002,staff,no,Người Tốt,0911111114,abc\n" // a weight that is no number
	_, rej := imports.CheckJoinFile("join.csv", []byte(file), communes, taken)
	if rej == nil {
		t.Fatal("a file with bad lines passed")
	}
	msg := rej.Error()
	for _, want := range []string{
		"join.csv: refused, nothing imported: 10 problems on 6 lines (7 data lines read)",
		`join.csv: line 3: code: the campaign has an agent or staff member "DL-00001-1" already (a code is never given twice, even once its holder has left)`,
		`join.csv: line 4: commune_code: unknown commune "00099"`,
		`join.csv: line 5: kind: must be "agent" or "staff"`,
		`join.csv: line 5: post_office: must be "yes" or "no"`,
		"join.csv: line 5: phone: must be 10 digits starting with 0",
		"join.csv: line 5: weight: must be a number from 0.001 to 1000",
		`join.csv: line 6: code: code "DL-00001-9" is also on line 2`,
		"join.csv: line 6: full_name: must not be empty",
		"join.csv: line 7: wrong number of fields",
		"join.csv: line 8: weight: must be a number from 0.001 to 1000",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the refusal does not say %q:\n%s", want, msg)
		}
	}
	for _, personal := range []string{"Người", "091111111", "12345"} {
		if strings.Contains(msg, personal) {
			t.Errorf("the refusal quotes %q:\n%s", personal, msg)
		}
	}
	for name, data := range map[string]string{
		"a header of another file": "citizen_id,outcome,reported_on\n",
		"nobody listed":            joinHeader,
		"not UTF-8":                joinHeader + "DL-00001-9,00001,agent,no,Ng\xff,0911111119,1\n",
	} {
		if lines, rej := imports.CheckJoinFile("join.csv", []byte(data), communes, taken); rej == nil || lines != nil {
			t.Errorf("%s: passed (%d lines)", name, len(lines))
		}
	}
	lines, rej := imports.CheckJoinFile("join.csv", []byte(joinHeader+"DL-00001-9,00001,agent,yes,Người Mới Chín,0911111119,1.2\nCB-00002-2,00002,staff,,Người Tốt,0911111114,\n"),
		communes, taken)
	if rej != nil || len(lines) != 2 || lines[0].Line != 2 || lines[0].Weight != 1.2 || !lines[0].PostOffice || lines[1].Weight != 1 || lines[1].Kind != "staff" {
		t.Errorf("a good file: %+v, %v", lines, rej)
	}
}

// `starter agents join` on a running campaign (the fixture plan on a clock of a campaign minute
// per second, so its day is 1 January for the test's seconds): a bad file is refused whole and writes nothing; a good one is staged and
// applied by the agents-join Update — the joiners are active from the campaign's day, each with
// its commune's target × its weight ÷ the weights (the whole period being left), the commune's
// sum the same, the staged lines gone — and the command prints counts, no names. The same file
// again is refused (the codes are taken); on a campaign that no longer runs the Update is
// refused and the staged batch is discarded.
func TestAgentsJoinCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// A server of its own: the CLI launches campaigns on the drives' one task queue, and this
	// campaign, still running when the test ends, was worked on a shared server by the next
	// test's worker against that test's database (a field.fold audit row of it appeared in
	// TestBadInputsAreRefusedAndWriteNothing's, which checks that nothing is written).
	srv, err := testenv.StartDevServer(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	dbURL := testenv.NewDB(t)
	db, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	tc := srv.Client()
	w := worker.New(tc, campaign.TaskQueue, worker.Options{})
	workflows.Register(w, &activities.Activities{Pool: db, Temporal: tc})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	co := &coordinator.Coordinator{DB: db, Temporal: tc}
	t.Setenv("DATABASE_URL", dbURL)
	t.Setenv("TEMPORAL_ADDRESS", srv.FrontendHostPort())
	t.Setenv("TEMPORAL_NAMESPACE", testenv.Namespace)
	t.Setenv("DRIVES_CODEC_KEYS", "")
	t.Setenv("DRIVES_USER", "tester")

	// An id of its own, as on a server that keeps every workflow ID launched.
	id := "join-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	dir := fixture.PlanDir(t)
	planPath := filepath.Join(dir, "plan.yaml")
	raw, err := os.ReadFile(planPath)
	require.NoError(t, err)
	text := string(raw)
	for _, r := range [][2]string{{"id: " + fixture.CampaignID, "id: " + id}, {"scale: 1\n", "scale: 60\n"}} {
		require.Equal(t, 1, strings.Count(text, r[0]), "fixture plan: %q", r[0])
		text = strings.Replace(text, r[0], r[1], 1)
	}
	require.NoError(t, os.WriteFile(planPath, []byte(text), 0o644))
	_, err = starter(ctx, "launch", planPath)
	require.NoError(t, err)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		p, err := co.Progress(ctx, id)
		if assert.NoError(c, err) {
			assert.Equal(c, campaign.StatusRunning, p.Status)
		}
	}, time.Minute, 100*time.Millisecond)
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		require.NoError(t, db.QueryRow(ctx, sql, args...).Scan(&n))
		return n
	}

	before := testenv.Fingerprint(t, db)
	bad := writeFile(t, "bad.csv", joinHeader+"DL-00001-9,00001,agent,no,Người Mới,0911111119,1\nDL-00001-1,00009,agent,no,Người Khác,091111,1\n")
	out, err := starter(ctx, "agents", "join", id, bad)
	require.Error(t, err, out)
	for _, want := range []string{"bad.csv: refused, nothing imported: 3 problems on 1 line", `bad.csv: line 3: code: the campaign has an agent or staff member "DL-00001-1" already`,
		`bad.csv: line 3: commune_code: unknown commune "00009"`, "bad.csv: line 3: phone: must be 10 digits starting with 0"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), "Người")
	assert.True(t, maps.Equal(before, testenv.Fingerprint(t, db)), "a refused file wrote something")

	target1, target2 := count(`select target from quotas where campaign_id = $1 and level = 'commune' and code = '00001'`, id),
		count(`select target from quotas where campaign_id = $1 and level = 'commune' and code = '00002'`, id)
	good := writeFile(t, "good.csv", joinHeader+"DL-00001-9,00001,agent,yes,Người Mới Chín,0911111119,1.2\nDL-00002-1,00002,agent,no,Người Mới Mười,0911111110,1\n")
	out, err = starter(ctx, "agents", "join", id, good)
	require.NoError(t, err, out)
	// Commune 00001: weights 0.5 + 1 + 0.8 + 1 and the joiner's 1.2; commune 00002: staff 0.5 and the joiner's 1.
	want1, want2 := int(math.Round(float64(target1)*1.2/4.5)), int(math.Round(float64(target2)*1/1.5))
	assert.Contains(t, out, "2 agents joined campaign "+id+" on 2021-01-01 in 2 communes, with quotas of "+strconv.Itoa(want1+want2)+
		" in all taken from 5 others there (the communes' targets unchanged; batch ")
	for _, personal := range []string{"Người", "0911111119"} {
		assert.NotContains(t, out, personal)
	}
	assert.Equal(t, 2, count(`select count(*) from agents where campaign_id = $1 and code in ('DL-00001-9', 'DL-00002-1') and status = 'active' and joined_on = '2021-01-01'`, id))
	assert.Equal(t, want1, count(`select target from quotas where campaign_id = $1 and level = 'agent' and code = 'DL-00001-9'`, id))
	assert.Equal(t, want2, count(`select target from quotas where campaign_id = $1 and level = 'agent' and code = 'DL-00002-1'`, id))
	assert.Equal(t, target1, count(`select sum(q.target) from agents a join quotas q on q.campaign_id = a.campaign_id and q.level = 'agent' and q.code = a.code where a.campaign_id = $1 and a.commune_code = '00001'`, id))
	assert.Equal(t, target2, count(`select sum(q.target) from agents a join quotas q on q.campaign_id = a.campaign_id and q.level = 'agent' and q.code = a.code where a.campaign_id = $1 and a.commune_code = '00002'`, id))
	assert.Equal(t, 0, count(`select count(*) from staged_agents`))
	assert.Equal(t, 1, count(`select count(*) from import_batches where campaign_id = $1 and kind = 'agents' and status = 'merged' and created_by = 'tester'`, id))
	assert.Equal(t, 1, count(`select count(*) from audit_log where campaign_id = $1 and action = 'agents.join' and actor = 'tester'`, id))

	// Again: the codes are taken now.
	_, err = starter(ctx, "agents", "join", id, good)
	if assert.Error(t, err) {
		assert.Contains(t, err.Error(), `good.csv: line 2: code: the campaign has an agent or staff member "DL-00001-9" already`)
	}

	// A campaign that no longer runs refuses the Update; the staged batch is discarded.
	_, err = starter(ctx, "cancel", id, "--reason", "test over")
	require.NoError(t, err)
	late := writeFile(t, "late.csv", joinHeader+"DL-00001-7,00001,agent,no,Người Đến Muộn,0911111117,1\n")
	_, err = starter(ctx, "agents", "join", id, late)
	if assert.Error(t, err) {
		assert.Contains(t, err.Error(), "late.csv: campaign "+id)
		assert.Contains(t, err.Error(), "nothing joined")
	}
	assert.Equal(t, 0, count(`select count(*) from import_batches where campaign_id = $1 and kind = 'agents' and status = 'staged'`, id))
	assert.Equal(t, 0, count(`select count(*) from staged_agents`))
	assert.Equal(t, 0, count(`select count(*) from agents where campaign_id = $1 and code = 'DL-00001-7'`, id))
}
