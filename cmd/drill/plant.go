package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// plants are the faults -plant writes into the database, as the schema's owner, after the
// campaigns end and before the checks: each must make a check fail, the totals unchanged
// wherever a total could hide it. Shown on a run of `go run ./cmd/drill -plant -rounds 3 -year 3m`:
// every one of them was reported as a FAIL line by the check named here, in both campaigns.
var plants = []struct {
	what, check, sql string
}{
	{"an enrolment with the later file's target group (first file must win)", "enrolments by citizen ID",
		`update enrolments set target_group = case target_group when 'farmer' then 'student' else 'farmer' end where campaign_id = $1
		 and citizen_id = (select max(citizen_id) from enrolments where campaign_id = $1)`},
	{"an enrolment lost and a made-up one in its place (same total)", "enrolments by citizen ID",
		`update enrolments set citizen_id = '999' || citizen_id where campaign_id = $1
		 and citizen_id = (select min(citizen_id) from enrolments where campaign_id = $1)`},
	{"a prospect lost and a made-up one in its place", "prospects by citizen ID",
		`update prospects set citizen_id = '999' || citizen_id where campaign_id = $1
		 and citizen_id = (select min(citizen_id) from prospects where campaign_id = $1)`},
	{"a follow-up with another final status", "follow-ups of leads by the prospect's citizen ID",
		`update follow_ups set status = case status when 'unreachable' then 'declined' else 'unreachable' end
		 where id = (select min(id) from follow_ups where campaign_id = $1 and kind = 'lead')`},
	{"the approved termination rejected", "proposed terminations by period and agent",
		`update review_decisions set status = 'rejected' where campaign_id = $1 and decision = 'terminate' and status = 'approved'`},
	{"a review decision lost", "review decisions by period and agent",
		`delete from review_decisions where campaign_id = $1 and decision <> 'terminate'
		 and (period, agent_code) = (select period, agent_code from review_decisions where campaign_id = $1 and decision <> 'terminate' order by 1, 2 limit 1)`},
	{"one quota moved between two agents (same total)", "quotas by level and code",
		`update quotas set target = target + case code when 'CB-00001' then 1 else -1 end
		 where campaign_id = $1 and level = 'agent' and code in ('CB-00001', 'DL-00001-1')`},
	{"the quota transfer lost", "quota transfers by period, from and to",
		`delete from quota_transfers where campaign_id = $1`},
	{"an agent terminated though its termination was rejected", "agents by code",
		`update agents set status = 'terminated' where campaign_id = $1 and code = '` + sparedAgent + `'`},
	{"a held event marked cancelled", "events held",
		`update events set status = 'cancelled' where campaign_id = $1 and id = (select min(id) from events where campaign_id = $1 and status = 'held')`},
	{"a review of a period the plan does not have", "reviews by period",
		`insert into reviews (campaign_id, period, window_start, window_end, workflow_id) values ($1, '2021-Q9', now(), now(), 'planted')`},
	{"a merged batch counting one new enrolment more", "new enrolments counted by merged batches",
		`update import_batches set result = jsonb_set(result, '{new}', to_jsonb((result->>'new')::int + 1))
		 where id = (select id from import_batches where campaign_id = $1 and kind = 'enrolments' and status = 'merged' order by id limit 1)`},
	{"the report's first two groups trading an enrolment (same total)", "the report's group figures",
		`update reports set body = jsonb_set(jsonb_set(body, '{groups,0,enrolled}', to_jsonb((body #>> '{groups,0,enrolled}')::int + 1)),
		 '{groups,1,enrolled}', to_jsonb((body #>> '{groups,1,enrolled}')::int - 1)) where campaign_id = $1`},
}

// plant writes the plants into the campaign's rows.
func (d *drill) plant(ctx context.Context, id string) error {
	conn, err := pgx.Connect(ctx, d.s.owner)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, p := range plants {
		tag, err := conn.Exec(ctx, p.sql, id)
		if err != nil {
			return fmt.Errorf("plant %s: %w", p.what, err)
		}
		d.logf("%s: planted %s (%d rows); the check of %s must fail", id, p.what, tag.RowsAffected(), p.check)
	}
	return nil
}
