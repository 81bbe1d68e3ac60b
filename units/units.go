// Package units holds the administrative units of a drive — districts, communes and villages
// with their labour-force baselines — and the roster of agents and staff who work them: what
// quotas are allocated over (package allocate), read from a plan's files (package plan).
package units

// Hierarchy is the administrative tree of a campaign: districts (quận/huyện/thị xã), communes
// (phường/xã/thị trấn) and villages or residential groups (thôn/tổ dân phố).
type Hierarchy struct {
	Districts []District `json:"districts"`
}

// District is a district-level unit.
type District struct {
	Code     string    `json:"code"`
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`
	Communes []Commune `json:"communes"`
}

// Commune is a commune-level unit.
type Commune struct {
	Code     string    `json:"code"`
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`
	Villages []Village `json:"villages"`
}

// Village is a village or residential group with its working-age informal labour force.
// Synthetic marks a baseline that was generated rather than measured.
type Village struct {
	Code        string `json:"code"`
	Name        string `json:"name"`
	LabourForce int    `json:"labour_force"`
	Synthetic   bool   `json:"synthetic"`
}

// LabourForce sums the villages' baselines.
func (c Commune) LabourForce() int {
	n := 0
	for _, v := range c.Villages {
		n += v.LabourForce
	}
	return n
}

// LabourForce sums the communes' baselines.
func (d District) LabourForce() int {
	n := 0
	for _, c := range d.Communes {
		n += c.LabourForce()
	}
	return n
}

// LabourForce sums the whole city.
func (h Hierarchy) LabourForce() int {
	n := 0
	for _, d := range h.Districts {
		n += d.LabourForce()
	}
	return n
}

// CommuneDistricts maps every commune code to its district code.
func (h Hierarchy) CommuneDistricts() map[string]string {
	m := map[string]string{}
	for _, d := range h.Districts {
		for _, c := range d.Communes {
			m[c.Code] = d.Code
		}
	}
	return m
}

// Agent is a staff member or collection agent (đại lý thu) with a quota weight. Name and phone
// are personal data: they live in PostgreSQL only.
type Agent struct {
	Code       string  `json:"code"`
	Commune    string  `json:"commune"`
	Kind       string  `json:"kind"` // agent | staff
	PostOffice bool    `json:"post_office"`
	Name       string  `json:"name"`
	Phone      string  `json:"phone"`
	Weight     float64 `json:"weight"`
}

// Agent kinds.
const (
	AgentKindAgent = "agent"
	AgentKindStaff = "staff"
)
