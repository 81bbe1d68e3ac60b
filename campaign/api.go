// Package campaign is the client-facing contract of the drive's workflows: task queue, workflow
// IDs, Update, Query and signal names, and the structs they carry. Starters, the simulator and
// tests use these, never string literals. Nothing here carries personal data: rows are named
// by IDs. The plan and its Spec are in package plan; the workflows themselves in workflows.
package campaign

import (
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"drives/plan"
)

// TaskQueue is where the worker polls.
const TaskQueue = "enrolment-drives"

// Workflow type names.
const (
	CampaignWorkflowName = "CampaignWorkflow"
	DistrictWorkflowName = "DistrictDriveWorkflow"
)

// CampaignWorkflowID is the ID of a campaign's workflow: campaign:<id>.
func CampaignWorkflowID(campaignID string) string { return "campaign:" + campaignID }

// DistrictWorkflowID is the ID of a district drive: campaign:<id>:district:<code>.
func DistrictWorkflowID(campaignID, district string) string {
	return "campaign:" + campaignID + ":district:" + district
}

// Search attributes set on every workflow of a drive (registered on the namespace by the make
// targets; see README).
var (
	SearchCampaignID = temporal.NewSearchAttributeKeyKeyword("CampaignId")
	SearchUnitCode   = temporal.NewSearchAttributeKeyKeyword("UnitCode")
	SearchPeriod     = temporal.NewSearchAttributeKeyKeyword("Period")
)

// Updates and Queries of CampaignWorkflow.
const (
	UpdateAddEvent          = "add-event"
	UpdateCancelEvent       = "cancel-event"
	UpdatePause             = "pause"
	UpdateResume            = "resume"
	UpdateCancel            = "cancel"
	UpdateRecordImport      = "record-import"
	UpdateRecordEventResult = "record-event-result"
	// UpdateRecordField counts the enrolments agents recorded in the field (package field)
	// since the last time into the campaign's progress: sent in batches, never per entry.
	UpdateRecordField = "record-field"
	QueryProgress     = "progress"
)

// Signals between the campaign and its district drives.
const (
	SignalDistrictSteer  = "steer"           // campaign → district: DistrictSteer
	SignalDistrictClosed = "district-closed" // district → campaign: DistrictClosed
)

// CampaignInput starts CampaignWorkflow. The plan itself stays in PostgreSQL (claim check):
// the workflow carries its ID and hash. State is set only when the workflow continues as new.
type CampaignInput struct {
	CampaignID string `json:"campaign_id"`
	PlanHash   string `json:"plan_hash"`
	// HistoryLimit is the history length at which a run continues as new (0: the default).
	HistoryLimit int             `json:"history_limit,omitempty"`
	State        json.RawMessage `json:"state,omitempty"` // the run's carry-over, the workflow's own
}

// Campaign statuses, as Progress and the campaigns table report them.
const (
	StatusPreparing = "preparing"
	StatusRunning   = "running"
	StatusPaused    = "paused"
	StatusClosing   = "closing"
	StatusClosed    = "closed"
	StatusCancelled = "cancelled"
)

// AddEventRequest adds an event to a running campaign.
type AddEventRequest struct {
	Event plan.EventSpec `json:"event"`
	By    string         `json:"by"`
}

// CancelEventRequest cancels a planned event.
type CancelEventRequest struct {
	EventID string `json:"event_id"`
	Reason  string `json:"reason"`
	By      string `json:"by"`
}

// SteerRequest pauses, resumes or cancels a campaign.
type SteerRequest struct {
	Reason string `json:"reason"`
	By     string `json:"by"`
}

// ImportRequest asks the campaign to merge a staged import batch.
type ImportRequest struct {
	BatchID string `json:"batch_id"`
	By      string `json:"by"`
}

// FieldRequest asks the campaign to count the enrolments recorded in the field since it last
// did; By names who sent it (the web page's batcher).
type FieldRequest struct {
	By string `json:"by"`
}

// FieldResult is what a count of field enrolments added, by district.
type FieldResult struct {
	Enrolled   int            `json:"enrolled"`
	ByDistrict map[string]int `json:"by_district"`
	// NextDue is when the campaign's earliest open follow-up falls due (campaign time); zero
	// when none is open.
	NextDue time.Time `json:"next_due,omitempty"`
}

// ImportResult says what a merged enrolment batch changed.
type ImportResult struct {
	BatchID         string         `json:"batch_id"`
	Rows            int            `json:"rows"`
	New             int            `json:"new"`
	Duplicates      int            `json:"duplicates"`
	ByDistrict      map[string]int `json:"by_district"` // new enrolments
	FollowUpsClosed int            `json:"follow_ups_closed"`
	// Payments: receipts whose amount the contribution rules do not give, and the people who
	// paid while current (renewed) or after a lapse (returned).
	Flagged  int `json:"flagged,omitempty"`
	Renewed  int `json:"renewed,omitempty"`
	Returned int `json:"returned,omitempty"`
	// NextDue is when the register next needs a sweep (a payment falls due, a grace ends).
	NextDue time.Time `json:"next_due,omitzero"`
}

// EventResultRequest records a held event's attendance and the batch of leads taken there.
type EventResultRequest struct {
	EventID    string `json:"event_id"`
	Attendance int    `json:"attendance"`
	BatchID    string `json:"batch_id"`
	By         string `json:"by"`
}

// LeadsResult says what recording an event's leads created.
type LeadsResult struct {
	EventID     string    `json:"event_id"`
	District    string    `json:"district"`
	Leads       int       `json:"leads"`
	New         int       `json:"new"`
	Duplicates  int       `json:"duplicates"`
	FollowUps   int       `json:"follow_ups"`
	EarliestDue time.Time `json:"earliest_due"` // campaign time of the first reminder or deadline
}

// DistrictSteer is what the campaign tells a running district drive.
type DistrictSteer struct {
	AddEvent    *plan.Event `json:"add_event,omitempty"`
	CancelEvent string      `json:"cancel_event,omitempty"`
	Pause       bool        `json:"pause,omitempty"`
	Resume      bool        `json:"resume,omitempty"`
	LeadsDue    time.Time   `json:"leads_due,omitempty"` // no longer sent: the campaign sweeps follow-ups
	Cancel      bool        `json:"cancel,omitempty"`
}

// DistrictClosed tells the campaign a district drive has finished.
type DistrictClosed struct {
	District string `json:"district"`
	Held     int    `json:"held"`
}

// Progress is what the progress Query answers.
type Progress struct {
	CampaignID      string             `json:"campaign_id"`
	Status          string             `json:"status"`
	CampaignTime    time.Time          `json:"campaign_time"` // as of the workflow's last task
	Clock           plan.Clock         `json:"clock"`
	PeriodStart     time.Time          `json:"period_start"`
	PeriodEnd       time.Time          `json:"period_end"`
	Target          int                `json:"target"`
	Enrolled        int                `json:"enrolled"`
	PriorYear       int                `json:"prior_year"`
	Imports         int                `json:"imports"`
	Events          int                `json:"events"`
	EventsAdded     int                `json:"events_added"`
	EventsCancelled int                `json:"events_cancelled"`
	Revisions       int                `json:"revisions,omitempty"` // plan revisions applied
	DistrictsClosed int                `json:"districts_closed"`
	Districts       []DistrictProgress `json:"districts"`
}

// DistrictProgress is one district's line of Progress.
type DistrictProgress struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Target   int    `json:"target"`
	Enrolled int    `json:"enrolled"`
	Closed   bool   `json:"closed"`
}

// DistrictInput starts DistrictDriveWorkflow. State is set when it continues as new.
type DistrictInput struct {
	CampaignID string             `json:"campaign_id"`
	District   plan.DistrictSpec  `json:"district"`
	Clock      plan.Clock         `json:"clock"`
	PeriodEnd  time.Time          `json:"period_end"`
	Policy     plan.FollowUpTimes `json:"policy"`
	Events     []plan.Event       `json:"events"`
	// HistoryLimit is the history length at which a run continues as new (0: the default).
	HistoryLimit int             `json:"history_limit,omitempty"`
	State        json.RawMessage `json:"state,omitempty"` // the run's carry-over, the workflow's own
}

// SweepResult says what a follow-up sweep did and when the next one is due.
type SweepResult struct {
	Reminded    int       `json:"reminded"`
	Escalated   int       `json:"escalated"`
	Unreachable int       `json:"unreachable"`
	NextDue     time.Time `json:"next_due"` // zero: no open follow-up left, nobody's payment to come
	// The register: renewal follow-ups opened, people lapsed.
	RenewalsOpened int `json:"renewals_opened,omitempty"`
	Lapsed         int `json:"lapsed,omitempty"`
}

// CloseResult is the summary a closed campaign returns; the full report is in PostgreSQL.
type CloseResult struct {
	CampaignID string `json:"campaign_id"`
	Status     string `json:"status"`
	Target     int    `json:"target"`
	Enrolled   int    `json:"enrolled"`
	PriorYear  int    `json:"prior_year"`
}

// Reviews: AgentReviewWorkflow evaluates a campaign's agents for one period; the campaign's
// Temporal Schedule starts ScheduledReviewWorkflow at each fire, which starts the period's
// review once (its workflow ID names the period).
const (
	ReviewWorkflowName          = "AgentReviewWorkflow"
	ScheduledReviewWorkflowName = "ScheduledReviewWorkflow"
	UpdateApproveTermination    = "approve-termination"
	UpdateRejectTermination     = "reject-termination"
	QueryReview                 = "review"
)

// ReviewScheduleID is the ID of a campaign's review schedule: review:<id>.
func ReviewScheduleID(campaignID string) string { return "review:" + campaignID }

// DecisionWorkflowName decides a proposed termination whose review workflow has ended (the
// approval wait is over and the termination was escalated, or the campaign has closed).
const DecisionWorkflowName = "LateDecisionWorkflow"

// DecisionWorkflowID is the ID of such a decision: decision:<id>:<period>:<agent code>. One
// decision per agent and period: a second start finds the first.
func DecisionWorkflowID(campaignID, period, agent string) string {
	return "decision:" + campaignID + ":" + period + ":" + agent
}

// DecisionInput is a coordinator's decision on a termination whose review has ended, taken at
// the campaign time At (the campaign's clock, or its period's end once it has closed).
type DecisionInput struct {
	CampaignID string              `json:"campaign_id"`
	Period     string              `json:"period"`
	Approve    bool                `json:"approve"`
	Decision   TerminationDecision `json:"decision"`
	At         time.Time           `json:"at"`
}

// ReviewWorkflowID is the ID of a period's review: review:<id>:<period>.
func ReviewWorkflowID(campaignID, period string) string {
	return "review:" + campaignID + ":" + period
}

// ReviewInput starts the review of one period.
type ReviewInput struct {
	CampaignID string            `json:"campaign_id"`
	Period     plan.ReviewPeriod `json:"period"`
	Clock      plan.Clock        `json:"clock"`
	Policy     plan.ReviewPolicy `json:"policy"`
	// HistoryLimit is the history length at which a run continues as new (0: the default);
	// State is what a run that continued as new hands the next one.
	HistoryLimit int             `json:"history_limit,omitempty"`
	State        json.RawMessage `json:"state,omitempty"`
}

// ScheduledReviewInput is what the schedule hands every fire: the campaign's review periods,
// from which the fire's nominal time picks one.
type ScheduledReviewInput struct {
	CampaignID string              `json:"campaign_id"`
	Clock      plan.Clock          `json:"clock"`
	Periods    []plan.ReviewPeriod `json:"periods"`
	Policy     plan.ReviewPolicy   `json:"policy"`
}

// ReviewSummary counts a period's decisions. Proposed counts the agents whose termination
// waits for a coordinator; which agents they are stays in PostgreSQL (review_decisions), so the
// summary, a Temporal payload, does not grow with the campaign's agents.
type ReviewSummary struct {
	Period             string `json:"period"`
	Agents             int    `json:"agents"`
	Rewarded           int    `json:"rewarded"`
	Commended          int    `json:"commended"`
	Retained           int    `json:"retained"`
	Warned             int    `json:"warned"`
	Proposed           int    `json:"proposed"`
	CommunesCommended  int    `json:"communes_commended"`
	DistrictsCommended int    `json:"districts_commended"`
}

// NoTerminationPending is the refusal of a decision on an agent whose termination is not
// waiting for a coordinator in a period: never proposed there, or not in that period at all.
func NoTerminationPending(agent, period string) string {
	return fmt.Sprintf("agent: %q has no termination pending in review %s", agent, period)
}

// TerminationDecision is a coordinator's approval or rejection of a proposed termination.
type TerminationDecision struct {
	Agent  string `json:"agent"`
	Reason string `json:"reason"`
	By     string `json:"by"`
}

// DecisionResult says what a decision did.
type DecisionResult struct {
	Agent        string `json:"agent"`
	Status       string `json:"status"` // approved, rejected, escalated, auto_terminated
	Already      bool   `json:"already,omitempty"`
	WasEscalated bool   `json:"was_escalated,omitempty"` // decided after the wait had escalated it
	Handover
}

// Handover is how an agent's work was handed on when their contract ended: open follow-ups
// and the rest of their quota to the commune's active agents (its staff, flagged ToStaff, when
// none is left), and the people of the register they held.
type Handover struct {
	FollowUpsMoved int `json:"follow_ups_moved"`
	// ParticipantsMoved counts the people of the register the agent held, now held by the
	// agents who took over.
	ParticipantsMoved int  `json:"participants_moved,omitempty"`
	QuotaMoved        int  `json:"quota_moved"`
	ToStaff           bool `json:"to_staff"`
}

// UpdateAgentLeaves ends the contract of an agent or staff member who resigns, on the
// campaign's day; their work is handed on as an approved termination's is.
const UpdateAgentLeaves = "agent-leaves"

// LeaveRequest says who leaves, why and who records it.
type LeaveRequest struct {
	Agent  string `json:"agent"`
	Reason string `json:"reason"`
	By     string `json:"by"`
}

// LeaveResult is what an agent's leaving did.
type LeaveResult struct {
	Agent   string `json:"agent"`
	Commune string `json:"commune"`
	Handover
}

// UpdateAgentMoves moves an agent or staff member to another commune of the campaign, on the
// campaign's day: their contract in the old commune ends and their work there is handed on as a
// leaving's is; a new contract under a new code starts in the new commune with a prorated quota
// taken from its others, as a joining's does.
const UpdateAgentMoves = "agent-moves"

// MoveRequest says who moves, to which commune, under which new code, why and who records it.
type MoveRequest struct {
	Agent  string `json:"agent"`
	To     string `json:"to"` // the commune's code
	As     string `json:"as"` // the code of the new contract
	Reason string `json:"reason"`
	By     string `json:"by"`
}

// MoveResult is what a move did, in counts: no names.
type MoveResult struct {
	Agent   string    `json:"agent"`
	From    string    `json:"from"` // the commune left
	To      string    `json:"to"`
	As      string    `json:"as"`
	MovedOn time.Time `json:"moved_on"` // campaign time, the new contract's first day
	// Handover is the work handed on in the commune left.
	Handover
	// QuotaTaken is the quota the new contract took over from the new commune's others, and
	// QuotasChanged how many of them gave some.
	QuotaTaken    int `json:"quota_taken"`
	QuotasChanged int `json:"quotas_changed"`
}

// UpdateAgentsJoin adds the agents and staff of a staged joining file (`starter agents join`)
// to their communes on the campaign's day, each with a prorated quota taken from the commune's
// others; the file itself stays in the database, the Update carries its batch ID only.
const UpdateAgentsJoin = "agents-join"

// JoinRequest names a staged joining batch and who records it.
type JoinRequest struct {
	BatchID string `json:"batch_id"`
	By      string `json:"by"`
}

// JoinResult is what a joining did, in counts: no names.
type JoinResult struct {
	BatchID  string    `json:"batch_id"`
	JoinedOn time.Time `json:"joined_on"` // campaign time, the day they joined
	Agents   int       `json:"agents"`    // collection agents joined
	Staff    int       `json:"staff"`     // staff members joined
	Communes int       `json:"communes"`  // communes they joined
	// QuotaTaken is the quota the joiners took over, in all, from their communes' other active
	// agents and staff: the communes' targets stay as they were.
	QuotaTaken int `json:"quota_taken"`
	// QuotasChanged counts the others whose quota shrank.
	QuotasChanged int `json:"quotas_changed"`
}

// UpdateRevisePlan applies a revision of the campaign's plan staged by `starter plan revise`
// (its number; the plan itself is read from the database, never carried in the workflow's
// history): the targets change from the revision's day, events are added and removed, and
// the running district drives take the change.
const UpdateRevisePlan = "revise-plan"

// ReviseRequest names the staged revision to apply: revisions apply in their order.
type ReviseRequest struct {
	Number int    `json:"number"`
	By     string `json:"by"`
}

// RevisionResult is what a revision changed.
type RevisionResult struct {
	Number    int            `json:"number"`
	From      time.Time      `json:"from"` // campaign time, the first day it applies
	Target    int            `json:"target"`
	Districts map[string]int `json:"districts"` // every district's target in force
	Quotas    int            `json:"quotas"`    // targets changed, every level
	Added     []plan.Event   `json:"added,omitempty"`
	Removed   []string       `json:"removed,omitempty"`
}

// ReviewResult is what a finished review returns.
type ReviewResult struct {
	CampaignID      string        `json:"campaign_id"`
	Period          string        `json:"period"`
	AlreadyReviewed bool          `json:"already_reviewed,omitempty"`
	Summary         ReviewSummary `json:"summary"`
	Approved        int           `json:"approved"`
	Rejected        int           `json:"rejected"`
	Escalated       int           `json:"escalated"`
	AutoTerminated  int           `json:"auto_terminated"`
}

// ReviewProgress is what the review Query answers: counts, and the agents decided through the
// review (coordinators' decisions, which come at a person's pace, and the policy's automatic
// terminations). Which agents are pending or escalated, the database says (review_decisions;
// coordinator.Attention).
type ReviewProgress struct {
	Period  string        `json:"period"`
	Summary ReviewSummary `json:"summary"`
	// Pending counts the proposals still waiting for a coordinator.
	Pending int `json:"pending"`
	// DecidedCount counts the proposals approved or rejected (by a coordinator or the policy).
	DecidedCount int `json:"decided_count"`
	// Escalated counts the proposals escalated at the end of the wait and not decided since.
	Escalated int               `json:"escalated"`
	Decided   map[string]string `json:"decided"`  // agent → approved | rejected | escalated | auto_terminated
	Deadline  time.Time         `json:"deadline"` // campaign time
}
