package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"

	"drives/report"
)

// enrolmentChart draws cumulative enrolments over the campaign period against the target:
// the target as a horizontal line and the plan pro rata (0 at the start, the target at the
// end) as a dashed line. Server-side SVG, so the page needs no script.
func enrolmentChart(lang string, days []report.DayCount, start, end time.Time, target int) template.HTML {
	const w, h, left, right, top, bottom = 760.0, 280.0, 70.0, 20.0, 20.0, 40.0
	pw, ph := w-left-right, h-top-bottom
	span := end.Sub(start).Hours()
	if span <= 0 {
		span = 24
	}
	maxY := float64(target)
	for _, d := range days {
		maxY = math.Max(maxY, float64(d.Cumulative))
	}
	if maxY == 0 {
		maxY = 1
	}
	maxY *= 1.08
	x := func(t time.Time) float64 {
		f := t.Sub(start).Hours() / span
		return left + math.Max(0, math.Min(1, f))*pw
	}
	y := func(v float64) float64 { return top + ph - v/maxY*ph }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg data-testid="chart-enrolments" class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		w, h, template.HTMLEscapeString(tr(lang, "Enrolments over time")))
	// Horizontal grid with labels.
	step := niceStep(maxY / 5)
	for v := 0.0; v <= maxY; v += step {
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, y(v), left+pw, y(v))
		fmt.Fprintf(&b, `<text class="ylabel" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, left-6, y(v)+4, formatInt(lang, int(v)))
	}
	// Months along the x axis.
	for m := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, start.Location()); m.Before(end); m = m.AddDate(0, 1, 0) {
		if m.Before(start) {
			continue
		}
		fmt.Fprintf(&b, `<line class="tick" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x(m), top+ph, x(m), top+ph+5)
		fmt.Fprintf(&b, `<text class="xlabel" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x(m), top+ph+18, m.Format("01/2006"))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, top+ph, left+pw, top+ph)
	// Target and plan pro rata.
	fmt.Fprintf(&b, `<line class="target" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, y(float64(target)), left+pw, y(float64(target)))
	fmt.Fprintf(&b, `<text class="legend target-label" x="%.1f" y="%.1f" text-anchor="end">%s %s</text>`,
		left+pw, y(float64(target))-6, template.HTMLEscapeString(tr(lang, "target")), formatInt(lang, target))
	fmt.Fprintf(&b, `<line class="plan" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x(start), y(0), x(end), y(float64(target)))
	// Cumulative enrolments, a step at each day.
	if len(days) > 0 {
		var pts []string
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(start), y(0)))
		prev := 0
		for _, d := range days {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(d.Day), y(float64(prev))), fmt.Sprintf("%.1f,%.1f", x(d.Day), y(float64(d.Cumulative))))
			prev = d.Cumulative
		}
		fmt.Fprintf(&b, `<polyline class="enrolled" points="%s"/>`, strings.Join(pts, " "))
	}
	fmt.Fprintf(&b, `<g class="legend"><line class="enrolled" x1="%.0f" y1="12" x2="%.0f" y2="12"/><text x="%.0f" y="16">%s</text>`,
		left+10, left+40, left+46, template.HTMLEscapeString(tr(lang, "enrolled (cumulative)")))
	fmt.Fprintf(&b, `<line class="plan" x1="%.0f" y1="12" x2="%.0f" y2="12"/><text x="%.0f" y="16">%s</text></g>`,
		left+250, left+280, left+286, template.HTMLEscapeString(tr(lang, "plan (pro rata)")))
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built here from numbers and escaped labels
}

// niceStep rounds a grid step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}
