package plan

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"drives/units"
)

var (
	codeRe      = regexp.MustCompile(`^[0-9]{3,8}$`)
	agentCodeRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$`)
)

// quoteCode gives ` "value"` for a value that looks like a code, to help find it, and nothing
// for anything else: a roster's refusal never repeats a phone number (or a name) that a shifted
// column put where a code belongs.
func quoteCode(v string) string {
	if !agentCodeRe.MatchString(v) || longDigits.MatchString(v) {
		return ""
	}
	return fmt.Sprintf(" %q", v)
}

var longDigits = regexp.MustCompile(`[0-9]{9,}`)

// UnitsHeader, VillagesHeader and RosterHeader are the exact headers of the plan's files.
var (
	UnitsHeader    = []string{"district_code", "district_name", "district_type", "commune_code", "commune_name", "commune_type"}
	VillagesHeader = []string{"commune_code", "village_code", "village_name", "labour_force", "source"}
	RosterHeader   = []string{"code", "commune_code", "kind", "post_office", "full_name", "phone", "weight"}
)

// csvFile reads a CSV file with an exact header and hands each record to row with its line
// number; problems are collected, not fatal, so a user sees them all at once.
type csvFile struct {
	name string
	errs *Errors
}

func (f csvFile) fail(line int, field, msg string) {
	where := field
	if line > 0 {
		where = fmt.Sprintf("line %d", line)
		if field != "" {
			where += ": " + field
		}
	}
	*f.errs = append(*f.errs, Error{File: f.name, Field: where, Msg: msg})
}

// cannotRead says why a file named by the plan could not be read, naming the path tried
// (the plan's folder joined to a relative name) rather than the name as written.
func cannotRead(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Sprintf("cannot read %s: %v", pe.Path, pe.Err)
	}
	return fmt.Sprintf("cannot read: %v", err)
}

// read returns the file's bytes and whether its lines could be read at all (the file was
// there and its header right); problems in single lines do not count.
func (f csvFile) read(fsys fs.FS, header []string, row func(line int, rec map[string]string)) ([]byte, bool) {
	raw, err := fs.ReadFile(fsys, f.name)
	if err != nil {
		f.fail(0, "", cannotRead(err))
		return nil, false
	}
	// Names go into the stored plan (JSON) and the database as text: bytes that are not UTF-8
	// would come back changed.
	for i := 0; i < len(raw); {
		r, n := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && n <= 1 {
			f.fail(1+bytes.Count(raw[:i], []byte("\n")), "", "the file is not UTF-8 text")
			return raw, false
		}
		i += n
	}
	r := csv.NewReader(strings.NewReader(string(raw)))
	r.FieldsPerRecord = len(header)
	got, err := r.Read()
	if err != nil {
		f.fail(1, "header", fmt.Sprintf("cannot read header: %v", err))
		return raw, false
	}
	got[0] = strings.TrimPrefix(got[0], "\ufeff")
	if !slices.Equal(got, header) {
		f.fail(1, "header", fmt.Sprintf("want %q", strings.Join(header, ",")))
		return raw, false
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				f.fail(pe.Line, "", pe.Err.Error())
				if errors.Is(pe.Err, csv.ErrFieldCount) {
					continue
				}
				break
			}
			f.fail(0, "", err.Error())
			break
		}
		line, _ := r.FieldPos(0)
		m := make(map[string]string, len(header))
		for i, h := range header {
			m[h] = strings.TrimSpace(rec[i])
		}
		row(line, m)
	}
	return raw, true
}

// readHierarchy reads the GSO register (districts and communes) and the villages file. ok is
// false when the register could not be read: then the villages are not checked against it
// (every one would be "unknown"), and the caller does not check units against it either.
func readHierarchy(fsys fs.FS, unitsFile, villagesFile string, errs *Errors) (h units.Hierarchy, raw []byte, ok bool) {
	seen := map[string]string{} // code -> what it is, across every level
	districts := map[string]int{}
	communes := map[string][2]int{}
	uf := csvFile{name: unitsFile, errs: errs}
	rawUnits, unitsOK := uf.read(fsys, UnitsHeader, func(line int, r map[string]string) {
		dc, cc := r["district_code"], r["commune_code"]
		if !codeRe.MatchString(dc) {
			uf.fail(line, "district_code", "must be 3 to 8 digits")
			return
		}
		if !codeRe.MatchString(cc) {
			uf.fail(line, "commune_code", "must be 3 to 8 digits")
			return
		}
		if r["district_name"] == "" || r["commune_name"] == "" {
			uf.fail(line, "district_name", "names must not be empty")
			return
		}
		di, ok := districts[dc]
		if !ok {
			if what, dup := seen[dc]; dup {
				uf.fail(line, "district_code", fmt.Sprintf("code %s is already used by a %s", dc, what))
				return
			}
			seen[dc] = "district"
			di = len(h.Districts)
			districts[dc] = di
			h.Districts = append(h.Districts, units.District{Code: dc, Name: r["district_name"], Kind: r["district_type"]})
		} else if h.Districts[di].Name != r["district_name"] {
			uf.fail(line, "district_name", fmt.Sprintf("district %s is named differently on an earlier line", dc))
			return
		}
		if what, dup := seen[cc]; dup {
			uf.fail(line, "commune_code", fmt.Sprintf("code %s is already used by a %s", cc, what))
			return
		}
		seen[cc] = "commune"
		communes[cc] = [2]int{di, len(h.Districts[di].Communes)}
		h.Districts[di].Communes = append(h.Districts[di].Communes, units.Commune{Code: cc, Name: r["commune_name"], Kind: r["commune_type"]})
	})
	if !unitsOK {
		return h, rawUnits, false
	}
	vf := csvFile{name: villagesFile, errs: errs}
	rawVillages, villagesOK := vf.read(fsys, VillagesHeader, func(line int, r map[string]string) {
		at, ok := communes[r["commune_code"]]
		if !ok {
			vf.fail(line, "commune_code", fmt.Sprintf("unknown commune %q", r["commune_code"]))
			return
		}
		code := r["village_code"]
		if !agentCodeRe.MatchString(code) {
			vf.fail(line, "village_code", "must be 1 to 40 letters, digits, '.', '_' or '-'")
			return
		}
		if what, dup := seen[code]; dup {
			vf.fail(line, "village_code", fmt.Sprintf("code %s is already used by a %s", code, what))
			return
		}
		lf, err := strconv.Atoi(r["labour_force"])
		if err != nil || lf < 0 {
			vf.fail(line, "labour_force", "must be a whole number, 0 or more")
			return
		}
		if r["village_name"] == "" {
			vf.fail(line, "village_name", "must not be empty")
			return
		}
		src := r["source"]
		if src != "synthetic" && src != "measured" {
			vf.fail(line, "source", `must be "synthetic" or "measured"`)
			return
		}
		seen[code] = "village"
		c := &h.Districts[at[0]].Communes[at[1]]
		c.Villages = append(c.Villages, units.Village{Code: code, Name: r["village_name"], LabourForce: lf, Synthetic: src == "synthetic"})
	})
	if villagesOK {
		for _, d := range h.Districts {
			for _, c := range d.Communes {
				if len(c.Villages) == 0 {
					vf.fail(0, "", fmt.Sprintf("commune %s has no villages", c.Code))
				}
			}
		}
	}
	return h, append(rawUnits, rawVillages...), true
}

// readRoster reads the staff and collection agents file; ok as for csvFile.read.
func readRoster(fsys fs.FS, file string, communes map[string]string, errs *Errors) (out []units.Agent, raw []byte, ok bool) {
	seen := map[string]bool{}
	f := csvFile{name: file, errs: errs}
	raw, ok = f.read(fsys, RosterHeader, func(line int, r map[string]string) {
		a := units.Agent{Code: r["code"], Commune: r["commune_code"], Kind: r["kind"], Name: r["full_name"], Phone: r["phone"], Weight: 1}
		switch {
		case !agentCodeRe.MatchString(a.Code):
			f.fail(line, "code", "must be 1 to 40 letters, digits, '.', '_' or '-'")
			return
		case seen[a.Code]:
			f.fail(line, "code", fmt.Sprintf("agent%s is listed twice", quoteCode(a.Code)))
			return
		case communes[a.Commune] == "":
			f.fail(line, "commune_code", fmt.Sprintf("unknown commune%s", quoteCode(a.Commune)))
			return
		case a.Kind != units.AgentKindAgent && a.Kind != units.AgentKindStaff:
			f.fail(line, "kind", `must be "agent" or "staff"`)
			return
		case a.Name == "":
			f.fail(line, "full_name", "must not be empty")
			return
		}
		switch r["post_office"] {
		case "yes", "true":
			a.PostOffice = true
		case "no", "false", "":
		default:
			f.fail(line, "post_office", `must be "yes" or "no"`)
			return
		}
		if w := r["weight"]; w != "" {
			v, err := strconv.ParseFloat(w, 64)
			if err != nil || !(v > 0) || v > 1000 {
				f.fail(line, "weight", "must be a number above 0 (at most 1000)")
				return
			}
			a.Weight = v
		}
		seen[a.Code] = true
		out = append(out, a)
	})
	return out, raw, ok
}
