package ui

import (
	"fmt"
	"slices"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// chartView is an evaluation series drawn by the server as an inline SVG: a stacked
// bar per bucket (hour or day), a colour per variant in the flag's variant order, a
// tooltip per bar. The counts table beside it holds the same numbers as text.
type chartView struct {
	Label  string
	Width  int
	Height int
	Bars   []chartBar
	Ticks  []chartTick
	Max    string
	Legend []legendItem
	Base   float64 // the y of the x axis
}

type chartBar struct {
	X, W  float64
	Title string
	Segs  []chartSeg
}

type chartSeg struct {
	Y, H  float64
	Class string
}

type chartTick struct {
	X    float64
	Text string
}

type legendItem struct {
	Class   string
	Variant string
}

// Chart geometry, in the SVG's own units.
const (
	chartW, chartH      = 600, 170
	plotLeft, plotRight = 44, 596
	plotTop, plotBottom = 10, 140
	chartGap            = 0.2 // of a bar's slot
)

// evaluationChart draws a series; nil when it has no buckets.
func evaluationChart(series []domain.EvaluationBucket, bucket domain.BucketSize, variants []domain.Variant) *chartView {
	if len(series) == 0 {
		return nil
	}
	class := map[string]string{}
	for i, v := range variants {
		class[v.Key] = fmt.Sprintf("v%d", i%8)
	}
	var peak, total int64
	byVariant := make([]map[string]int64, len(series))
	seen := map[string]bool{}
	for i, b := range series {
		byVariant[i] = map[string]int64{}
		var sum int64
		for _, c := range b.Counts {
			byVariant[i][c.Variant] += c.Count
			sum += c.Count
			seen[c.Variant] = true
		}
		peak, total = max(peak, sum), total+sum
	}
	v := &chartView{Width: chartW, Height: chartH, Base: plotBottom, Max: count(peak)}
	order := make([]string, 0, len(variants)+1)
	for _, vr := range variants {
		order = append(order, vr.Key)
	}
	var others []string
	for k := range seen {
		if !slices.Contains(order, k) {
			others = append(others, k)
		}
	}
	slices.Sort(others)
	order = append(order, others...)
	for _, k := range order {
		if seen[k] {
			c, ok := class[k]
			if !ok {
				c = "v7"
			}
			name := k
			if name == "" {
				name = "(no variant: an error)"
			}
			v.Legend = append(v.Legend, legendItem{Class: c, Variant: name})
		}
	}
	slot := float64(plotRight-plotLeft) / float64(len(series))
	format := "15:04"
	if bucket == domain.BucketDay {
		format = "Mon 2 Jan"
	}
	every := max(1, len(series)/6)
	for i, b := range series {
		bar := chartBar{X: plotLeft + float64(i)*slot + slot*chartGap/2, W: slot * (1 - chartGap)}
		var sum int64
		y := float64(plotBottom)
		for _, k := range order {
			n := byVariant[i][k]
			if n == 0 {
				continue
			}
			sum += n
			h := float64(n) / float64(max(peak, 1)) * (plotBottom - plotTop)
			y -= h
			c, ok := class[k]
			if !ok {
				c = "v7"
			}
			bar.Segs = append(bar.Segs, chartSeg{Y: y, H: h, Class: c})
		}
		bar.Title = fmt.Sprintf("%s: %s evaluations", b.Start.UTC().Format("Mon 2 Jan 15:04 UTC"), count(sum))
		v.Bars = append(v.Bars, bar)
		if i%every == 0 {
			v.Ticks = append(v.Ticks, chartTick{X: bar.X + bar.W/2, Text: b.Start.UTC().Format(format)})
		}
	}
	unit := "hour"
	if bucket == domain.BucketDay {
		unit = "day"
	}
	v.Label = fmt.Sprintf("Evaluations per %s from %s to %s (UTC): %s in all, at most %s in one %s", unit,
		series[0].Start.UTC().Format("Mon 2 Jan 15:04"), series[len(series)-1].Start.Add(bucket.Duration()).UTC().Format(time.DateTime[:16]),
		count(total), count(peak), unit)
	return v
}
