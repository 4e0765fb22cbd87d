package domain

import (
	"encoding/json"
	"math"
)

// Number returns v as a float64 when it is a JSON or Go number.
func Number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case uint32:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// WeightScale is the number of weight units in 100%: weights have three decimals.
const WeightScale = 100_000

// WeightUnits converts a percentage weight to units of 0.001%, reporting false when it
// has more than three decimals.
func WeightUnits(w float64) (int64, bool) {
	x := w * 1000
	r := math.Round(x)
	return int64(r), math.Abs(x-r) < 1e-6
}
