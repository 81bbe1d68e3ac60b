package store

import (
	"context"
	"fmt"
)

// Unit is one unit of a campaign's hierarchy: a district, commune or village.
type Unit struct {
	Code     string
	Level    string // district | commune | village
	Parent   string // "" for a district
	District string
	Name     string
	Kind     string // the GSO's kind of district or commune; "" for a village
	// LabourForce is the working-age labour force in farming and the informal sector.
	LabourForce int
	Synthetic   bool // LabourForce was generated, not measured
}

// InsertUnits writes a campaign's units in one statement; a unit already there is left as it is.
func InsertUnits(ctx context.Context, db DB, campaignID string, units []Unit) error {
	n := len(units)
	code, level, parent, district := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	name, kind, labour, synthetic := make([]string, n), make([]string, n), make([]int32, n), make([]bool, n)
	for i, u := range units {
		code[i], level[i], parent[i], district[i] = u.Code, u.Level, u.Parent, u.District
		name[i], kind[i], labour[i], synthetic[i] = u.Name, u.Kind, int32(u.LabourForce), u.Synthetic
	}
	if _, err := db.Exec(ctx, `
		insert into units (campaign_id, code, level, parent_code, district_code, name, kind, labour_force, synthetic)
		select $1, * from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::bool[])
		on conflict do nothing`,
		campaignID, code, level, parent, district, name, kind, labour, synthetic); err != nil {
		return fmt.Errorf("insert units: %w", err)
	}
	return nil
}
