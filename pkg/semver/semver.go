// Package semver parses and orders semantic versions (https://semver.org 2.0.0) without
// allocating, for the semver_* operators.
//
// A leading "v" is accepted, and so are missing minor and patch numbers ("1.2" is
// 1.2.0), because apps report versions that way. Build metadata ("+build.5") is parsed
// and ignored for ordering, as the specification requires.
package semver

import (
	"cmp"
	"strings"
)

// Version is a parsed semantic version. Pre is the pre-release part without its "-".
type Version struct {
	Major, Minor, Patch uint64
	Pre                 string
}

// Parse parses s. It reports false for anything that is not a version.
func Parse(s string) (Version, bool) {
	var v Version
	if len(s) > 0 && (s[0] == 'v' || s[0] == 'V') {
		s = s[1:]
	}
	if s == "" {
		return v, false
	}
	// Split off build metadata, then the pre-release.
	for i := 0; i < len(s); i++ {
		if s[i] == '+' {
			if !validIdents(s[i+1:], false) {
				return v, false
			}
			s = s[:i]
			break
		}
	}
	core := s
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			core, v.Pre = s[:i], s[i+1:]
			if !validIdents(v.Pre, true) {
				return v, false
			}
			break
		}
	}
	var nums [3]uint64
	n := 0
	start := 0
	for i := 0; i <= len(core); i++ {
		if i < len(core) && core[i] != '.' {
			continue
		}
		if n == 3 {
			return v, false
		}
		x, ok := number(core[start:i])
		if !ok {
			return v, false
		}
		nums[n] = x
		n++
		start = i + 1
	}
	v.Major, v.Minor, v.Patch = nums[0], nums[1], nums[2]
	return v, true
}

// number parses a numeric identifier: digits without a leading zero.
func number(s string) (uint64, bool) {
	if s == "" || len(s) > 19 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var x uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		x = x*10 + uint64(c-'0')
	}
	return x, true
}

// validIdents checks dot-separated identifiers of [0-9A-Za-z-]; numeric pre-release
// identifiers may not have leading zeros.
func validIdents(s string, pre bool) bool {
	if s == "" {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			c := s[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
				return false
			}
			continue
		}
		id := s[start:i]
		if id == "" {
			return false
		}
		if pre && allDigits(id) && len(id) > 1 && id[0] == '0' {
			return false
		}
		start = i + 1
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Compare returns -1, 0 or 1 as a orders before, equal to, or after b.
func Compare(a, b Version) int {
	if c := cmp.Compare(a.Major, b.Major); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Minor, b.Minor); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Patch, b.Patch); c != 0 {
		return c
	}
	return comparePre(a.Pre, b.Pre)
}

// comparePre orders pre-releases: none sorts after any; identifiers compare left to
// right, numeric ones numerically and before alphanumeric ones; a shorter list of equal
// identifiers sorts first.
func comparePre(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	for {
		ia, ra := cut(a)
		ib, rb := cut(b)
		if c := compareIdent(ia, ib); c != 0 {
			return c
		}
		a, b = ra, rb
		switch {
		case a == "" && b == "":
			return 0
		case a == "":
			return -1
		case b == "":
			return 1
		}
	}
}

func cut(s string) (string, string) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

func compareIdent(a, b string) int {
	na, nb := allDigits(a), allDigits(b)
	switch {
	case na && nb && len(a) != len(b):
		// Without leading zeros, the longer number is the larger.
		return cmp.Compare(len(a), len(b))
	case na && !nb:
		return -1
	case nb && !na:
		return 1
	}
	return strings.Compare(a, b)
}
