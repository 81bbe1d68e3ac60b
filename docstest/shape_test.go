package docstest

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
)

// A shape is what docs/API.md shows of a JSON answer or body, in its notation:
//
//	{"key": value, key, …}   an object with those keys (bare or quoted, the same)
//	[{…}], [units], [..]      an array (of objects of that shape, or of anything)
//	"text" | "other"          a string
//	<words>, words            anything (a description)
//	{audit row id: URL}       an object of any keys (a key of several words describes them)
type shape struct {
	kind  string // object, array, string, any, map
	keys  []string
	field map[string]*shape
	elem  *shape
}

// parseShape reads the doc's notation; the text after the value is ignored.
func parseShape(text string) (*shape, error) {
	p := &shapeParser{toks: shapeTokens(strings.ReplaceAll(text, `\|`, "|"))}
	sh, err := p.value()
	if err != nil {
		return nil, fmt.Errorf("%w in %q", err, text)
	}
	return sh, nil
}

var shapeTok = regexp.MustCompile(`"[^"]*"|<[^>]*>|[{}\[\]:,|]|[^{}\[\]:,|"<]+`)

func shapeTokens(s string) []string {
	var out []string
	for _, t := range shapeTok.FindAllString(s, -1) {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

type shapeParser struct {
	toks []string
	i    int
}

func (p *shapeParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *shapeParser) next() string { t := p.peek(); p.i++; return t }

func (p *shapeParser) value() (*shape, error) {
	switch t := p.next(); {
	case t == "{":
		return p.object()
	case t == "[":
		el := &shape{kind: "any"}
		if p.peek() != "]" {
			var err error
			if el, err = p.value(); err != nil {
				return nil, err
			}
		}
		for p.peek() != "]" { // "[a commune's agents]" and the like: words
			if p.next() == "" {
				return nil, fmt.Errorf("an array that does not end")
			}
			el = &shape{kind: "any"}
		}
		p.next()
		return &shape{kind: "array", elem: el}, nil
	case strings.HasPrefix(t, `"`):
		for p.peek() == "|" {
			p.next()
			p.next()
		}
		return &shape{kind: "string"}, nil
	case t == "":
		return nil, fmt.Errorf("a value missing")
	default:
		return &shape{kind: "any"}, nil
	}
}

func (p *shapeParser) object() (*shape, error) {
	sh := &shape{kind: "object", field: map[string]*shape{}}
	for {
		t := p.next()
		switch {
		case t == "}":
			return sh, nil
		case t == ",":
			continue
		case t == "":
			return nil, fmt.Errorf("an object that does not end")
		}
		key := strings.Trim(t, `"`)
		if strings.Contains(key, " ") || key == "…" {
			// {audit row id: URL}: a description of the keys
			for depth := 1; depth > 0; {
				switch p.next() {
				case "{":
					depth++
				case "}":
					depth--
				case "":
					return nil, fmt.Errorf("an object that does not end")
				}
			}
			return &shape{kind: "map"}, nil
		}
		var v *shape = &shape{kind: "any"}
		if p.peek() == ":" {
			p.next()
			var err error
			if v, err = p.value(); err != nil {
				return nil, err
			}
		}
		sh.keys = append(sh.keys, key)
		sh.field[key] = v
	}
}

// timeKeys are the keys docs/API.md says are RFC 3339 times; pctKeys percentages, two decimals.
var (
	timeKeys = map[string]bool{"period_start": true, "period_end": true, "day": true, "at": true,
		"window_end": true, "campaign_time": true, "recorded_at": true, "merged_at": true, "generated_at": true}
	dateKeys = map[string]bool{"today": true, "renewal_due": true} // YYYY-MM-DD
	dateForm = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	pctKeys  = regexp.MustCompile(`(^|_)pct$`)
)

// check compares a decoded JSON value with the shape; optional keys (by path, "agents[].x" or
// "x") may be missing. It returns what differs.
func (sh *shape) check(v any, path string, optional map[string]bool) []string {
	var errs []string
	switch sh.kind {
	case "object", "map":
		obj, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %s", name(path), kindOf(v))}
		}
		for _, k := range sh.keys {
			kp := strings.TrimPrefix(path+"."+k, ".")
			fv, present := obj[k]
			if !present {
				if !optional[kp] && !optional[k] {
					errs = append(errs, fmt.Sprintf("%s: missing (has %s)", kp, keysOf(obj)))
				}
				continue
			}
			errs = append(errs, sh.field[k].check(fv, kp, optional)...)
			if fv == nil {
				continue
			}
			if timeKeys[k] {
				if s, ok := fv.(string); !ok {
					errs = append(errs, fmt.Sprintf("%s: a time should be an RFC 3339 string, got %s", kp, kindOf(fv)))
				} else if _, err := time.Parse(time.RFC3339, s); err != nil {
					errs = append(errs, fmt.Sprintf("%s: %q is not RFC 3339", kp, s))
				}
			}
			if dateKeys[k] {
				if d, ok := fv.(string); !ok || !dateForm.MatchString(d) {
					errs = append(errs, fmt.Sprintf("%s: want a date YYYY-MM-DD, got %s", kp, kindOf(fv)))
				}
			}
			if pctKeys.MatchString(k) {
				if f, ok := fv.(float64); !ok {
					errs = append(errs, fmt.Sprintf("%s: a percentage should be a number, got %s", kp, kindOf(fv)))
				} else if math.Abs(f*100-math.Round(f*100)) > 1e-6 {
					errs = append(errs, fmt.Sprintf("%s: %v is not rounded to two decimals", kp, f))
				}
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an array, got %s", name(path), kindOf(v))}
		}
		for i, e := range arr {
			if i >= 3 {
				break
			}
			errs = append(errs, sh.elem.check(e, path+"[]", optional)...)
		}
	case "string":
		if _, ok := v.(string); !ok {
			errs = append(errs, fmt.Sprintf("%s: want a string, got %s", name(path), kindOf(v)))
		}
	}
	return errs
}

func name(path string) string {
	if path == "" {
		return "the answer"
	}
	return path
}

func kindOf(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object with " + keysOf(v)
	case []any:
		return "an array"
	case string:
		return fmt.Sprintf("the string %q", v)
	default:
		return fmt.Sprintf("%T %v", v, v)
	}
}

func keysOf(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// at is the shape at a path of an object shape ("pending[]"): where the doc's second span
// describes the elements of several arrays.
func (sh *shape) set(path string, el *shape) bool {
	parts := strings.Split(strings.TrimSuffix(path, "[]"), ".")
	cur := sh
	for i, p := range parts {
		f := cur.field[p]
		if f == nil {
			return false
		}
		if i == len(parts)-1 {
			if f.kind != "array" {
				return false
			}
			f.elem = el
			return true
		}
		cur = f
	}
	return false
}
