package store

import (
	"fmt"
	"strings"
)

// Scope is the part of the drive a signed-in person sees and acts on: one campaign or every
// one, and within it every unit, some districts and communes (each with what lies below it),
// or one agent's own work. The lists of the web page take it as a condition of their rows.
type Scope struct {
	Campaign  string   `json:"campaign,omitempty"` // "": every campaign
	Districts []string `json:"districts,omitempty"`
	Communes  []string `json:"communes,omitempty"`
	Agent     string   `json:"agent,omitempty"`
}

// Whole says whether the scope holds every unit and agent of its campaigns.
func (s Scope) Whole() bool { return len(s.Districts) == 0 && len(s.Communes) == 0 && s.Agent == "" }

// HasCampaign says whether the scope holds the campaign.
func (s Scope) HasCampaign(id string) bool { return s.Campaign == "" || s.Campaign == id }

// where is the scope's condition on a row of campaign $1 placed by these columns (its
// commune's and its agent's code), its arguments appended to args; an empty scope adds nothing.
// The communes are listed first (an initplan), so that the row's commune index is walked.
func (s Scope) where(args *[]any, commune, agent string) string {
	if s.Whole() {
		return ""
	}
	if s.Agent != "" {
		*args = append(*args, s.Agent)
		return fmt.Sprintf(" and %s = $%d", agent, len(*args))
	}
	*args = append(*args, s.Districts, s.Communes)
	return fmt.Sprintf(" and %s = any(array(select code from units where campaign_id = $1 and level = 'commune'"+
		" and (district_code = any($%d) or code = any($%d))))", commune, len(*args)-1, len(*args))
}

// Key is the scope as a cache key's part.
func (s Scope) Key() string {
	return s.Campaign + "\x00" + strings.Join(s.Districts, ",") + "\x00" + strings.Join(s.Communes, ",") + "\x00" + s.Agent
}
