package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"drives/campaign"
	"drives/contribution"
	"drives/plan"
	"drives/report"
	"drives/store"
)

// MergeInput asks for a staged batch to be merged.
type MergeInput struct {
	CampaignID string `json:"campaign_id"`
	BatchID    string `json:"batch_id"`
	By         string `json:"by"`
	// Policy is the campaign's follow-up policy; its renewal rules say when the register
	// next needs a sweep (ImportResult.NextDue).
	Policy plan.FollowUpTimes `json:"policy"`
}

// MergeImport merges a staged enrolment or outcome batch. Enrolments of people not enrolled
// yet go in (one merge per campaign at a time; the key (campaign, citizen ID) is unique), so a
// file imported twice adds nothing the second time; a new
// enrolment closes its person's follow-up as enrolled. Outcomes close open follow-ups as
// declined or unreachable.
func (a *Activities) MergeImport(ctx context.Context, in MergeInput) (campaign.ImportResult, error) {
	res, err := a.mergeImport(ctx, in)
	if err == nil && len(res.ByDistrict) > 0 { // an outcome batch has no districts: it enrols nobody
		countMetric(ctx, MetricEnrolmentsImported, res.New, nil)
	}
	return res, err
}

func (a *Activities) mergeImport(ctx context.Context, in MergeInput) (campaign.ImportResult, error) {
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "import.merge", entity: "import_batch", entityKey: in.BatchID, actor: in.By},
		func(tx pgx.Tx) (campaign.ImportResult, error) {
			res := campaign.ImportResult{BatchID: in.BatchID, ByDistrict: map[string]int{}}
			kind, err := store.BatchKind(ctx, tx, in.BatchID)
			if errors.Is(err, store.ErrNotFound) {
				return res, permanent(ErrNotFound, "import batch %s is not staged", in.BatchID)
			}
			if err != nil {
				return res, err
			}
			if kind == "leads" {
				return res, permanent(ErrInvalidImport, "import batch %s holds leads; record them as an event's results", in.BatchID)
			}
			if err := claimBatch(ctx, tx, in.CampaignID, in.BatchID, kind, "", &res.Rows); err != nil {
				return res, err
			}
			// A batch joined to the register by citizen ID is planned on statistics that
			// know it: on an earlier batch's, a 25,000-line payments batch's first join ran
			// for minutes holding the campaign's merge lock.
			if kind == "payments" || kind == "participants" {
				refreshStatistics(ctx, tx, "the staged rows", store.AnalyzeStaging)
			}
			switch kind {
			case "enrolments":
				err = mergeEnrolments(ctx, tx, in, &res)
			case "participants":
				if err = store.LockEnrolmentMerges(ctx, tx, in.CampaignID); err == nil {
					res.New, err = store.MergeRegister(ctx, tx, in.CampaignID, in.BatchID)
					res.Duplicates = res.Rows - res.New
				}
			case "payments":
				err = mergePayments(ctx, tx, in, &res)
			default:
				err = mergeOutcomes(ctx, tx, in, &res)
			}
			if err != nil {
				return res, err
			}
			// A large merge leaves the register's statistics behind: refreshed now, or the
			// next sweep is planned for a handful of people.
			if kind != "outcomes" && res.New > largeRegisterChange {
				refreshStatistics(ctx, tx, "the register", store.AnalyzeRegister)
			}
			// New people and new cover move the register's due days.
			if kind != "outcomes" {
				if res.NextDue, err = registerDue(ctx, tx, in.CampaignID, in.Policy); err != nil {
					return res, err
				}
			}
			return res, store.FinishBatch(ctx, tx, in.BatchID, res)
		})
}

func mergeEnrolments(ctx context.Context, tx pgx.Tx, in MergeInput, res *campaign.ImportResult) error {
	// One merge per campaign at a time, so that each sees every enrolment committed before
	// it. Under the lock, one statement in the database enrols the staged lines' people not
	// enrolled yet, in line order, with the contribution rules' figures: the lines are not read
	// back into the worker and sent again.
	if err := store.LockEnrolmentMerges(ctx, tx, in.CampaignID); err != nil {
		return fmt.Errorf("merge enrolments: %w", err)
	}
	m, err := store.MergeEnrolments(ctx, tx, in.CampaignID, in.BatchID, res.Rows, contributionTerms)
	if err != nil {
		return err
	}
	res.New, res.ByDistrict = m.New, m.ByDistrict
	res.Duplicates = res.Rows - res.New
	if len(m.Prospects) == 0 {
		return nil
	}
	// Prospects who enrolled: their follow-ups close, on the day each enrolled.
	res.FollowUpsClosed, err = store.CloseEnrolledFollowUps(ctx, tx, in.CampaignID, in.BatchID, m.Prospects, m.Days)
	return err
}

// largeRegisterChange is the number of people a merge adds or pays for above which it
// refreshes the register's statistics.
const largeRegisterChange = 5_000

// contributionTerms are the 2021 rules as the store's statements compute them.
var contributionTerms = store.EnrolmentTerms{
	Percent:         contribution.Percent,
	PoorSubsidy:     contribution.MonthlySubsidy("poor"),
	NearPoorSubsidy: contribution.MonthlySubsidy("near_poor"),
	OtherSubsidy:    contribution.MonthlySubsidy("other"),
}

// mergePayments records a payments batch's new receipts and applies them to the register.
func mergePayments(ctx context.Context, tx pgx.Tx, in MergeInput, res *campaign.ImportResult) error {
	// Every writer of the campaign's register takes its merge lock: enrolment merges, phones'
	// sends, payments, a starting register, the sweep.
	if err := store.LockEnrolmentMerges(ctx, tx, in.CampaignID); err != nil {
		return err
	}
	m, err := store.MergePayments(ctx, tx, in.CampaignID, in.BatchID, contributionTerms)
	if err != nil {
		return err
	}
	res.New, res.Flagged, res.Renewed, res.Returned, res.FollowUpsClosed = m.New, m.Flagged, m.Renewed, m.Returned, m.FollowUpsClosed
	res.Duplicates = res.Rows - res.New
	return nil
}

func mergeOutcomes(ctx context.Context, tx pgx.Tx, in MergeInput, res *campaign.ImportResult) error {
	closed, err := store.MergeOutcomes(ctx, tx, in.CampaignID, in.BatchID)
	if err != nil {
		return err
	}
	res.New = closed
	res.FollowUpsClosed = res.New
	res.Duplicates = res.Rows - res.New
	return nil
}

// StatusInput records a change of a campaign's status (pause, resume, cancel, closing).
type StatusInput struct {
	CampaignID string `json:"campaign_id"`
	Status     string `json:"status"`
	Reason     string `json:"reason"`
	By         string `json:"by"`
}

// SetStatus records a campaign's new status.
func (a *Activities) SetStatus(ctx context.Context, in StatusInput) (string, error) {
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "campaign." + in.Status, entity: "campaign", entityKey: in.CampaignID,
		actor: in.By, detail: map[string]any{"reason": in.Reason}},
		func(tx pgx.Tx) (string, error) {
			if err := store.SetCampaignStatus(ctx, tx, in.CampaignID, in.Status); err != nil {
				return "", err
			}
			return in.Status, nil
		})
}

// CloseInput closes a campaign.
type CloseInput struct {
	CampaignID string    `json:"campaign_id"`
	Status     string    `json:"status"` // closed | cancelled
	AsOf       time.Time `json:"as_of"`  // campaign time of the close
	// Policy's renewal rules bring the register up to the close before the report counts it.
	Policy plan.FollowUpTimes `json:"policy"`
}

// CloseCampaign builds the final report from the rows, stores it, and marks the campaign
// closed (or cancelled).
func (a *Activities) CloseCampaign(ctx context.Context, in CloseInput) (campaign.CloseResult, error) {
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "campaign.close", entity: "campaign", entityKey: in.CampaignID,
		detail: map[string]any{"status": in.Status, "as_of": in.AsOf}},
		func(tx pgx.Tx) (campaign.CloseResult, error) {
			if err := store.CloseCampaign(ctx, tx, in.CampaignID, in.Status); err != nil {
				return campaign.CloseResult{}, err
			}
			if t, ok := specRenewals(in.Policy); ok && !in.AsOf.IsZero() {
				if err := store.LockEnrolmentMerges(ctx, tx, in.CampaignID); err != nil {
					return campaign.CloseResult{}, err
				}
				if _, err := store.SweepRegister(ctx, tx, in.CampaignID, in.AsOf, t); err != nil {
					return campaign.CloseResult{}, err
				}
			}
			r, err := report.Build(ctx, tx, in.CampaignID)
			if err != nil {
				return campaign.CloseResult{}, err
			}
			if err := report.Store(ctx, tx, r); err != nil {
				return campaign.CloseResult{}, err
			}
			return campaign.CloseResult{CampaignID: in.CampaignID, Status: in.Status, Target: r.Target, Enrolled: r.Enrolled, PriorYear: r.PriorYear}, nil
		})
}
