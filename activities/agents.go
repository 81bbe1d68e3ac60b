package activities

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"drives/allocate"
	"drives/campaign"
	"drives/store"
	"drives/units"
)

// JoinInput applies a staged joining batch at a campaign time.
type JoinInput struct {
	CampaignID string    `json:"campaign_id"`
	BatchID    string    `json:"batch_id"`
	By         string    `json:"by"`
	At         time.Time `json:"at"` // campaign time
}

// AgentsJoin adds the agents and staff of a staged joining batch to their communes, active from
// the campaign's day (joined_on), in one audited transaction, and gives each a prorated quota
// taken from the commune's other active agents and staff (prorateJoin): the communes' targets,
// and so every level above, stay as they were. Each quota changed is kept by day from the
// joining day (quota_history, as a revision's are, under revision 0: no revision of the plan),
// so that reviews judge everyone against the quota in force. The staged lines, with the names
// and phones, are deleted. A line whose code the campaign has by now (another join, a race) or
// whose commune it does not know refuses the whole batch, naming the lines, and writes nothing.
func (a *Activities) AgentsJoin(ctx context.Context, in JoinInput) (campaign.JoinResult, error) {
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "agents.join", entity: "import_batch", entityKey: in.BatchID, actor: in.By,
		detail: map[string]any{"at": in.At}},
		func(tx pgx.Tx) (campaign.JoinResult, error) {
			res := campaign.JoinResult{BatchID: in.BatchID}
			// Quotas move within communes as a leaving's or a termination's do: one at a time.
			if err := store.LockEnrolmentMerges(ctx, tx, in.CampaignID); err != nil {
				return res, err
			}
			b, err := store.LockBatch(ctx, tx, in.BatchID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				return res, permanent(ErrNotFound, "joining batch %s is not staged", in.BatchID)
			case err != nil:
				return res, err
			case b.CampaignID != in.CampaignID:
				return res, permanent(ErrInvalidImport, "joining batch %s belongs to campaign %s, not %s", in.BatchID, b.CampaignID, in.CampaignID)
			case b.Kind != store.JoinBatchKind:
				return res, permanent(ErrInvalidImport, "batch %s holds %s, not agents joining", in.BatchID, b.Kind)
			case b.Status != "staged":
				return res, permanent(ErrInvalidState, "joining batch %s was applied already", in.BatchID)
			}
			joiners, err := store.StagedJoiners(ctx, tx, in.CampaignID, in.BatchID)
			if err != nil {
				return res, err
			}
			if len(joiners) != b.Rows {
				return res, permanent(ErrInvalidImport, "joining batch %s has %d of its %d staged lines; stage the file again", in.BatchID, len(joiners), b.Rows)
			}
			var bad []string
			for _, j := range joiners {
				switch {
				case j.Taken:
					bad = append(bad, fmt.Sprintf("line %d: code: %s is already an agent or staff member of the campaign", j.Line, shownValue(j.Code)))
				case !j.Known:
					bad = append(bad, fmt.Sprintf("line %d: commune_code: unknown commune %s", j.Line, shownValue(j.Commune)))
				}
			}
			if len(bad) > 0 {
				return res, permanent(ErrInvalidImport, "joining batch %s refused, nothing written: %s", in.BatchID, strings.Join(bad, "; "))
			}

			when, err := joiningDay(ctx, tx, in.CampaignID, in.At)
			if err != nil {
				return res, err
			}
			res.JoinedOn = when.day

			if _, err := store.InsertJoiners(ctx, tx, in.CampaignID, in.BatchID, when.joined); err != nil {
				return res, err
			}
			byCommune := map[string][]holder{}
			for _, j := range joiners {
				byCommune[j.Commune] = append(byCommune[j.Commune], holder{Code: j.Code, Weight: j.Weight})
				if j.Kind == units.AgentKindStaff {
					res.Staff++
				} else {
					res.Agents++
				}
			}
			res.Communes = len(byCommune)
			if res.QuotaTaken, res.QuotasChanged, err = shareWithJoiners(ctx, tx, in.CampaignID, byCommune, when,
				store.QuotaSource{Action: "agents.join", Key: in.BatchID}); err != nil {
				return res, err
			}
			return res, store.FinishJoin(ctx, tx, in.BatchID, res)
		})
}

// MoveInput moves an agent or staff member to another commune at a campaign time.
type MoveInput struct {
	CampaignID string               `json:"campaign_id"`
	Request    campaign.MoveRequest `json:"request"`
	At         time.Time            `json:"at"` // campaign time
}

// AgentMoves moves an agent or staff member to another commune of the campaign, on the
// campaign's day, in one audited transaction: their contract in the commune they leave ends
// (status left, the reason saying where they went and under which code) and their work there is
// handed on as a leaving's is (handOver); a new contract under the new code starts in the new
// commune that day, the same person (name and phone copied in the database), kind, post office
// and weight, with a prorated quota taken from the commune's others as a joining's is
// (shareWithJoiners). Reviews judge the old code until the move and the new one from it. An
// agent not active, a commune unknown or the one they work in, a code the campaign has had:
// refused, nothing written.
func (a *Activities) AgentMoves(ctx context.Context, in MoveInput) (campaign.MoveResult, error) {
	r := in.Request
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "agent.move", entity: "agent", entityKey: r.Agent, actor: r.By,
		detail: map[string]any{"to": r.To, "as": r.As, "reason": r.Reason, "at": in.At}},
		func(tx pgx.Tx) (campaign.MoveResult, error) {
			res := campaign.MoveResult{Agent: r.Agent, To: r.To, As: r.As}
			if err := store.LockEnrolmentMerges(ctx, tx, in.CampaignID); err != nil {
				return res, err
			}
			old, err := store.ActiveAgent(ctx, tx, in.CampaignID, r.Agent)
			if errors.Is(err, store.ErrNotFound) {
				return res, permanent(ErrNotFound, "campaign %s has no active agent or staff member %s", in.CampaignID, r.Agent)
			}
			if err != nil {
				return res, err
			}
			res.From = old.Commune
			if old.Commune == r.To {
				return res, permanent(ErrInvalidState, "to: agent %s works in commune %s already", r.Agent, r.To)
			}
			taken, err := store.AgentCodeTaken(ctx, tx, in.CampaignID, r.As)
			if err != nil {
				return res, err
			}
			if taken {
				return res, permanent(ErrInvalidState, "as: %s is already an agent or staff member of the campaign (a code is given once)", r.As)
			}
			when, err := joiningDay(ctx, tx, in.CampaignID, in.At)
			if err != nil {
				return res, err
			}
			res.MovedOn = when.day
			reason := fmt.Sprintf("moved to commune %s as %s: %s", r.To, r.As, r.Reason)
			if _, err := store.EndContract(ctx, tx, in.CampaignID, r.Agent, "left", in.At, reason); err != nil {
				return res, err
			}
			label := "moved " + in.At.Format(time.DateOnly)
			if err := handOver(ctx, tx, in.CampaignID, label, r.Agent, old.Commune, in.At, &res.Handover); err != nil {
				return res, err
			}
			ok, err := store.InsertMovedAgent(ctx, tx, in.CampaignID, r.Agent, r.As, r.To, when.joined)
			if err != nil {
				return res, err
			}
			if !ok {
				return res, permanent(ErrNotFound, "to: campaign %s has no commune %s", in.CampaignID, r.To)
			}
			res.QuotaTaken, res.QuotasChanged, err = shareWithJoiners(ctx, tx, in.CampaignID,
				map[string][]holder{r.To: {{Code: r.As, Weight: old.Weight}}}, when, store.QuotaSource{Action: "agent.move", Key: r.Agent})
			return res, err
		})
}

// joining is the day agents join a campaign (or take up a new contract in it) and the share of
// its period left from that day.
type joining struct {
	start, joined time.Time // the period's first day and the joining day, as the period's dates are read
	day           time.Time // the joining day, midnight in the campaign's time zone
	left, total   int       // days of the period from the joining day (included), and in all
}

// joiningDay is the campaign's day at the campaign time at: the period's first day when before
// it; refused once the period has ended.
func joiningDay(ctx context.Context, tx pgx.Tx, campaignID string, at time.Time) (joining, error) {
	start, end, tz, err := store.CampaignPeriod(ctx, tx, campaignID)
	if err != nil {
		return joining{}, err
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return joining{}, err
	}
	day := dayIn(at, loc)
	joined := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	if joined.Before(start) {
		joined, day = start, time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc)
	}
	if joined.After(end) {
		return joining{}, permanent(ErrInvalidState, "campaign %s's period ended on %s: nobody joins it after", campaignID, end.Format(time.DateOnly))
	}
	return joining{start: start, joined: joined, day: day, left: periodDays(joined, end), total: periodDays(start, end)}, nil
}

// shareWithJoiners gives the joiners of each commune (byCommune, already on the roster with a
// quota of 0) their prorated quota, taken from the commune's other active agents and staff
// (prorateJoin), and keeps every quota changed by day from the joining day, with the audit row
// that changed it (by): the communes' targets, and every level above, stay as they were. It returns the quota the joiners took in
// all and how many others' quotas shrank.
func shareWithJoiners(ctx context.Context, tx pgx.Tx, campaignID string, byCommune map[string][]holder, when joining, by store.QuotaSource) (taken, changed int, err error) {
	communes := slices.Sorted(maps.Keys(byCommune))
	targets, err := store.CommuneTargets(ctx, tx, campaignID, communes)
	if err != nil {
		return 0, 0, err
	}
	members, err := store.AgentsOfCommunes(ctx, tx, campaignID, communes)
	if err != nil {
		return 0, 0, err
	}
	var changes []store.QuotaChange
	for _, c := range communes {
		newcomers := byCommune[c]
		var others []holder
		for _, m := range members {
			if m.Commune == c && m.Active && !slices.ContainsFunc(newcomers, func(j holder) bool { return j.Code == m.Code }) {
				others = append(others, holder{Code: m.Code, Weight: m.Weight, Quota: m.Quota})
			}
		}
		gains, cuts := prorateJoin(targets[c], others, newcomers, when.left, when.total)
		for i, n := range gains {
			taken += n
			if n != 0 {
				changes = append(changes, store.QuotaChange{Level: "agent", Code: newcomers[i].Code, Old: 0, New: n})
			}
		}
		for i, n := range cuts {
			if n != 0 {
				changes = append(changes, store.QuotaChange{Level: "agent", Code: others[i].Code, Old: others[i].Quota, New: others[i].Quota - n})
				changed++
			}
		}
	}
	if len(changes) > 0 {
		if err := store.ChangeQuotas(ctx, tx, campaignID, by, when.joined, changes); err != nil {
			return 0, 0, err
		}
	}
	return taken, changed, nil
}

// longDigits is a run of digits as long as a phone's or a citizen ID's.
var longDigits = regexp.MustCompile(`[0-9]{9,}`)

// shownValue quotes a code for a refusal, unless it holds a run of digits a phone or an ID
// could be (a shifted column): a refusal never repeats personal data.
func shownValue(v string) string {
	if longDigits.MatchString(v) {
		return "(a value like a phone number)"
	}
	return strconv.Quote(v)
}

// holder is an agent or staff member of a commune in a joining's split: their weight and
// quota now (0 for a joiner).
type holder struct {
	Code   string
	Weight float64
	Quota  int
}

// prorateJoin splits a commune's target between the agents and staff who join it (joiners) and
// those active in it already (others), for the days of the period left (daysLeft of
// periodDays, the joining day included). The joiners take, in all, their weights' share of the
// target for the rest of the period — target × their weights ÷ everyone's × daysLeft ÷
// periodDays, rounded by largest remainder against the rest — shared among them by largest
// remainder on their weights (gains); the others give the same total, shared by largest
// remainder on their weights (cuts), none more than the quota it holds (what one cannot give,
// the others with quota left give in its place). The commune's sum stays exact: sum(gains) =
// sum(cuts). Integer arithmetic only, so the result depends only on the inputs.
func prorateJoin(target int, others, joiners []holder, daysLeft, periodDays int) (gains, cuts []int) {
	gains, cuts = make([]int, len(joiners)), make([]int, len(others))
	share := func(h holder) allocate.Share {
		return allocate.AgentShare(units.Agent{Code: h.Code, Weight: h.Weight})
	}
	var wJoin, wAll int64
	for _, j := range joiners {
		wJoin += share(j).Weight
	}
	wAll = wJoin
	for _, o := range others {
		wAll += share(o).Weight
	}
	if target <= 0 || wJoin == 0 || daysLeft <= 0 || periodDays <= 0 {
		return gains, cuts
	}
	daysLeft = min(daysLeft, periodDays)
	// The joiners' part against the rest: target × wJoin·daysLeft ÷ wAll·periodDays.
	taken := allocate.LargestRemainder(target, []allocate.Share{
		{Code: "joining", Weight: wJoin * int64(daysLeft)},
		{Code: "rest", Weight: wAll*int64(periodDays) - wJoin*int64(daysLeft)},
	})[0]
	// What the others can give: their quotas, shared by weight, capped, the excess shared again
	// among those with quota left.
	left := make([]int, len(others))
	for i, o := range others {
		left[i] = max(o.Quota, 0)
	}
	toGive := taken
	for toGive > 0 {
		var idx []int
		var shares []allocate.Share
		for i, o := range others {
			if left[i] > 0 {
				idx = append(idx, i)
				shares = append(shares, share(o))
			}
		}
		if len(idx) == 0 {
			break // nobody has quota left: the joiners take what was given
		}
		split := allocate.LargestRemainder(toGive, shares)
		for k, n := range split {
			n = min(n, left[idx[k]])
			cuts[idx[k]] += n
			left[idx[k]] -= n
			toGive -= n
		}
	}
	taken -= toGive
	js := make([]allocate.Share, len(joiners))
	for i, j := range joiners {
		js[i] = share(j)
	}
	copy(gains, allocate.LargestRemainder(taken, js))
	return gains, cuts
}
