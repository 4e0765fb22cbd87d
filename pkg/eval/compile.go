package eval

import (
	"errors"
	"fmt"
	"hash/maphash"
	"regexp"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
)

// Compile compiles an environment snapshot. It never fails: a flag whose configuration
// cannot be compiled (which validation prevents) answers ERROR with error code GENERAL,
// and Problems says why.
func Compile(s domain.Snapshot) *Snapshot {
	snap := &Snapshot{
		ProjectKey:     s.ProjectKey,
		EnvironmentID:  s.EnvironmentID,
		EnvironmentKey: s.EnvironmentKey,
		Version:        s.Version,
		index:          make(map[string]int, len(s.Flags)),
		seed:           maphash.MakeSeed(),
		budget:         DefaultBudget,
	}
	in := &interner{global: map[string]*attr{}, slots: map[string]int{}, regexes: map[string]*regexp.Regexp{}}
	fcs := make([]domain.FlagConfig, 0, len(s.Flags))
	for _, fc := range s.Flags {
		if !fc.Flag.Archived {
			fcs = append(fcs, fc)
		}
	}
	slices.SortStableFunc(fcs, func(a, b domain.FlagConfig) int { return strings.Compare(a.Flag.Key, b.Flag.Key) })
	// All conditions of the snapshot share one backing array, in evaluation order, so
	// that bulk evaluation reads memory sequentially.
	nconds := 0
	for _, fc := range fcs {
		for _, r := range fc.Config.Rules {
			nconds += len(r.Conditions)
		}
	}
	in.conds = make([]condition, 0, nconds)
	kept := fcs[:0]
	for _, fc := range fcs {
		if _, dup := snap.index[fc.Flag.Key]; dup {
			snap.problems = append(snap.problems, fmt.Errorf("flag %q: listed twice; the first is used", fc.Flag.Key))
			continue
		}
		in.local = map[string]int{}
		f, err := compileFlag(in, snap.seed, fc)
		if err != nil {
			f.broken = err.Error()
			snap.problems = append(snap.problems, fmt.Errorf("flag %q: %w", fc.Flag.Key, err))
		}
		snap.index[f.key] = len(snap.flags)
		snap.flags = append(snap.flags, f)
		kept = append(kept, fc)
	}
	for i, fc := range kept {
		f := &snap.flags[i]
		for _, p := range fc.Config.Prerequisites {
			idx, ok := snap.index[p.Flag]
			if !ok {
				idx = -1
			}
			f.prereqs = append(f.prereqs, prereq{flag: idx, variant: p.Variant})
		}
	}
	snap.nattrs = len(in.slots)
	snap.link()
	return snap
}

func compileFlag(in *interner, seed maphash.Seed, fc domain.FlagConfig) (flag, error) {
	fl, cfg := fc.Flag, fc.Config
	f := flag{
		key:    fl.Key,
		salt:   fl.BucketSalt(),
		off:    fl.Killed || !cfg.Enabled,
		offIdx: -1,
	}
	for i, v := range fl.Variants {
		f.variants = append(f.variants, variant{key: v.Key, value: v.Value})
		if v.Key == cfg.OffVariant {
			f.offIdx = i
		}
	}
	var errs []error
	if f.offIdx < 0 {
		errs = append(errs, fmt.Errorf("off variant %q is not defined", cfg.OffVariant))
	}
	var err error
	if f.def, err = f.compileServe(in, cfg.Default); err != nil {
		errs = append(errs, fmt.Errorf("default: %w", err))
	}
	for i, r := range cfg.Rules {
		cr := rule{id: r.ID}
		start := len(in.conds)
		for j, c := range r.Conditions {
			cc, err := compileCondition(in, seed, c)
			if err != nil {
				errs = append(errs, fmt.Errorf("rules[%d].conditions[%d]: %w", i, j, err))
			}
			in.conds = append(in.conds, cc)
		}
		cr.conds = in.conds[start:len(in.conds):len(in.conds)]
		if cr.serve, err = f.compileServe(in, r.Serve); err != nil {
			errs = append(errs, fmt.Errorf("rules[%d].serve: %w", i, err))
		}
		f.rules = append(f.rules, cr)
	}
	f.nlocal = len(in.local)
	return f, errors.Join(errs...)
}

func (f *flag) variantIndex(key string) int {
	for i, v := range f.variants {
		if v.key == key {
			return i
		}
	}
	return -1
}

func (f *flag) compileServe(in *interner, s domain.Serve) (serve, error) {
	if s.Rollout == nil {
		i := f.variantIndex(s.Variant)
		if i < 0 {
			return serve{variant: -1}, fmt.Errorf("variant %q is not defined", s.Variant)
		}
		return serve{variant: i}, nil
	}
	by := s.Rollout.BucketBy
	if by == "" {
		by = "key"
	}
	ro := &rollout{by: in.attr(by)}
	var total int64
	for k := range s.Rollout.Weights {
		if f.variantIndex(k) < 0 {
			return serve{variant: -1}, fmt.Errorf("rollout weight for undefined variant %q", k)
		}
	}
	// Ranges follow the flag's variant order, so the bucket layout is independent of
	// how the weights were written.
	for i, v := range f.variants {
		w, ok := s.Rollout.Weights[v.key]
		if !ok {
			continue
		}
		units, exact := domain.WeightUnits(w)
		if !exact || units < 0 {
			return serve{variant: -1}, fmt.Errorf("weight %v for %q is not a percentage with three decimals", w, v.key)
		}
		if units == 0 {
			continue
		}
		total += units
		ro.bounds = append(ro.bounds, uint32(min(total, domain.WeightScale)))
		ro.variants = append(ro.variants, i)
	}
	if total != domain.WeightScale {
		return serve{variant: -1}, fmt.Errorf("weights sum to %.3f, not 100", float64(total)/1000)
	}
	return serve{variant: -1, rollout: ro}, nil
}
