package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/enums/v1"

	"drives/accounts"
	"drives/campaign"
	"drives/coordinator"
	"drives/field"
	"drives/store"
	"drives/web"
)

// FieldRun is what the field load run measured: many agents' phones sending at once.
type FieldRun struct {
	Agents, EntriesEach int
	Sends               []time.Duration // each send's round trip
	Elapsed             time.Duration   // first send to last answer
	Recorded, Refused   int             // entries, as answered
	Busy                int             // sends answered 503 (busy) and sent again
	InDB                int             // field entries in the database after the run
	Doubled             int             // people enrolled or made leads more than once
	AgainRecorded       int             // a second send of everything: answers "again"
	AgainWrote          bool            // whether the second send changed the database
	Updates             int             // record-field Updates the run cost
	HistoryEvents       int             // events they added to the campaign's history
	Folded              int             // enrolments they counted into the progress
}

// Field launches the Hà Nội campaign on a slow clock and has `agents` of its roster send
// `each` entries at once through the field API over loopback HTTP (6 in 10 walk-in
// enrolments, the rest leads), each phone one send; then sends everything again. It counts
// what arrived, what doubled, and what the workflow's count of the field cost.
func Field(ctx context.Context, e *Env, hanoi string, agents, each int) (*FieldRun, error) {
	lp, err := PlanVariant(hanoi, e.ID("field"), YearIn(24*time.Hour))
	if err != nil {
		return nil, err
	}
	id := lp.Plan.ID
	co := &coordinator.Coordinator{DB: e.DB, Temporal: e.Temporal}
	if _, err := co.Launch(ctx, lp); err != nil {
		return nil, err
	}
	defer func() {
		_ = e.Temporal.TerminateWorkflow(context.Background(), campaign.CampaignWorkflowID(id), "", "field run over")
	}()
	for {
		p, err := co.Progress(ctx, id)
		if err == nil && p.Status == campaign.StatusRunning {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	// The phones: roster members with an account and a token each.
	roster, err := store.RosterMembers(ctx, e.DB, id)
	if err != nil {
		return nil, err
	}
	if len(roster) < agents {
		return nil, fmt.Errorf("field: campaign %s has %d agents and staff, fewer than %d", id, len(roster), agents)
	}
	roster = roster[:agents]
	var accs []store.Account
	tokens := make([]string, agents)
	for i, m := range roster {
		tokens[i] = fmt.Sprintf("field-run-%s-%06d-token", e.Run, i)
		accs = append(accs, store.Account{Name: fmt.Sprintf("field-%s-%d", strings.ToLower(e.Run), i), Role: accounts.RoleAgent,
			CampaignID: id, AgentCode: m.Code, TokenSHA256: accounts.TokenHash(tokens[i])})
	}
	if err := pgx.BeginFunc(ctx, e.DB, func(tx pgx.Tx) error { return store.InsertAccounts(ctx, tx, accs) }); err != nil {
		return nil, err
	}
	villages := map[string]string{}
	for _, m := range roster {
		if _, ok := villages[m.Commune]; !ok {
			vs, err := store.UnitChoices(ctx, e.DB, id, m.Commune)
			if err != nil {
				return nil, err
			}
			if len(vs) > 0 {
				villages[m.Commune] = vs[0].Code
			}
		}
	}
	groups, err := store.TargetGroupsByLikelihood(ctx, e.DB, id)
	if err != nil {
		return nil, err
	}
	bodies := make([][]byte, agents)
	for i, m := range roster {
		var entries []field.Entry
		for j := range each {
			n := i*each + j
			en := field.Entry{ID: fmt.Sprintf("f1e1d000-0000-4000-8000-%012d", n), Kind: field.KindLead,
				CitizenID: fmt.Sprintf("0019%08d", n), FullName: fmt.Sprintf("Người Gặp %d", n), Phone: fmt.Sprintf("09%08d", n),
				Village: villages[m.Commune], Group: groups[n%len(groups)]}
			if j%10 < 6 {
				en.Kind, en.MonthlyIncome, en.SubsidyClass, en.PaymentMode = field.KindEnrolment, 2_000_000+int64(n%100)*10_000, "other", "monthly"
			}
			entries = append(entries, en)
		}
		if bodies[i], err = json.Marshal(web.FieldSend{Campaign: id, Entries: entries}); err != nil {
			return nil, err
		}
	}

	h, err := web.New(web.Config{DB: e.DB, Temporal: e.Temporal, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, err
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 256, MaxIdleConnsPerHost: 256}, Timeout: 5 * time.Minute}
	before, err := historyLength(ctx, e, id)
	if err != nil {
		return nil, err
	}
	run := &FieldRun{Agents: agents, EntriesEach: each}
	var mu sync.Mutex
	busy := 0
	sendAll := func() (results [][]field.Result, took []time.Duration, elapsed time.Duration, err error) {
		results, took = make([][]field.Result, agents), make([]time.Duration, agents)
		errs := make(chan error, agents)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range agents {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				began := time.Now()
				// As a phone does: a busy server's 503 is waited out and the same entries sent again.
				var res *http.Response
				for {
					req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/field/entries", bytes.NewReader(bodies[i]))
					req.Header.Set("Authorization", "Bearer "+tokens[i])
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Accept", "application/json")
					var err error
					if res, err = client.Do(req); err != nil {
						errs <- err
						return
					}
					if res.StatusCode != http.StatusServiceUnavailable {
						break
					}
					res.Body.Close()
					mu.Lock()
					busy++
					mu.Unlock()
					time.Sleep(time.Second)
				}
				defer res.Body.Close()
				var out struct{ Results []field.Result }
				if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("phone %d: status %d (%v)", i, res.StatusCode, err)
					return
				}
				took[i], results[i] = time.Since(began), out.Results
			}()
		}
		began := time.Now()
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			return nil, nil, 0, err
		}
		return results, took, time.Since(began), nil
	}
	results, took, elapsed, err := sendAll()
	if err != nil {
		return nil, err
	}
	run.Sends, run.Elapsed, run.Busy = took, elapsed, busy
	for _, rs := range results {
		for _, r := range rs {
			if r.Status == "recorded" {
				run.Recorded++
			} else {
				run.Refused++
			}
		}
	}
	// The workflow's count: wait for the batch (the web page's timer) to have counted every
	// enrolment.
	for {
		var left int
		if err := e.DB.QueryRow(ctx, `select count(*) from field_entries where campaign_id = $1 and enrolled and folded_at is null`, id).Scan(&left); err != nil {
			return nil, err
		}
		if left == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	after, err := historyLength(ctx, e, id)
	if err != nil {
		return nil, err
	}
	run.HistoryEvents = after - before
	if err := e.DB.QueryRow(ctx, `select count(*), coalesce(sum((result->>'enrolled')::int), 0) from audit_log
		where campaign_id = $1 and action = 'field.fold'`, id).Scan(&run.Updates, &run.Folded); err != nil {
		return nil, err
	}
	if err := e.DB.QueryRow(ctx, `select count(*) from field_entries where campaign_id = $1`, id).Scan(&run.InDB); err != nil {
		return nil, err
	}
	if err := e.DB.QueryRow(ctx, `select
		(select count(*) - count(distinct citizen_id) from enrolments where campaign_id = $1) +
		(select count(*) - count(distinct citizen_id) from prospects where campaign_id = $1)`, id).Scan(&run.Doubled); err != nil {
		return nil, err
	}
	// Everything again, as phones that never heard the answers would.
	var counts [2]int
	count := func() (int, error) {
		var n int
		err := e.DB.QueryRow(ctx, `select (select count(*) from enrolments where campaign_id = $1) + (select count(*) from prospects where campaign_id = $1)
			+ (select count(*) from field_entries where campaign_id = $1)`, id).Scan(&n)
		return n, err
	}
	if counts[0], err = count(); err != nil {
		return nil, err
	}
	again, _, _, err := sendAll()
	if err != nil {
		return nil, err
	}
	for _, rs := range again {
		for _, r := range rs {
			if r.Again && r.Status == "recorded" {
				run.AgainRecorded++
			}
		}
	}
	if counts[1], err = count(); err != nil {
		return nil, err
	}
	run.AgainWrote = counts[0] != counts[1]
	return run, nil
}

// historyLength is how many events the campaign workflow's current run has.
func historyLength(ctx context.Context, e *Env, id string) (int, error) {
	it := e.Temporal.GetWorkflowHistory(ctx, campaign.CampaignWorkflowID(id), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		if _, err := it.Next(); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}
