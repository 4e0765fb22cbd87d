// Package validate checks domain values before they are stored and reports every
// problem at once, each with the JSON path of the field (rules[2].conditions[0].values)
// and a message a person can act on.
//
// Structural rules (required fields, lengths, key patterns) are the `validate` tags on
// the domain types, checked by go-playground/validator; semantic rules (variants that
// exist, weights, operator values, prerequisites and their cycles) and the limits of
// package domain (counts, encoded sizes, the programs of patterns, the depth of
// prerequisite chains) are the code here, each message naming its limit. Snapshot checks
// the limits of a whole environment, which no single write shows.
//
// Keys follow documented patterns:
//
//	project and environment keys  ^[a-z0-9][a-z0-9_-]{0,62}$
//	flag keys                     segments of [A-Za-z0-9][A-Za-z0-9._-]* joined by "/", at most 128 bytes
//	variant keys and rule ids     ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$
//	tags                          ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$
//	salts                         ^[A-Za-z0-9._/-]{1,128}$
package validate

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/go-playground/validator/v10"

	"github.com/switchyard/switchyard/pkg/domain"
)

// Key patterns, as documented in the package comment.
var (
	slugPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	flagKeyPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$`)
	variantPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	tagPattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)
	saltPattern    = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,128}$`)
)

// MaxFlagKeyLen bounds flag keys.
const MaxFlagKeyLen = 128

// patterns maps each custom validator tag to its check and the message it produces.
var patterns = map[string]struct {
	ok  func(string) bool
	msg string
}{
	"slug": {slugPattern.MatchString,
		"must be 1-63 lowercase letters, digits, '_' or '-', starting with a letter or digit"},
	"flagkey": {FlagKey,
		"must be at most 128 letters, digits, '.', '_', '-' or '/', each '/'-separated segment starting with a letter or digit"},
	"variantkey": {variantPattern.MatchString,
		"must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"},
	"tag": {tagPattern.MatchString,
		"must be 1-64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit"},
	"salt": {saltPattern.MatchString,
		"must be 1-128 letters, digits, '.', '_', '-' or '/'"},
}

// FlagKey reports whether s is a valid flag key.
func FlagKey(s string) bool {
	return len(s) <= MaxFlagKeyLen && flagKeyPattern.MatchString(s)
}

// Slug reports whether s is a valid project or environment key.
func Slug(s string) bool { return slugPattern.MatchString(s) }

// structs is immutable after construction and safe for concurrent use.
var structs = newStructValidator()

func newStructValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	for tag, p := range patterns {
		check := p.ok
		if err := v.RegisterValidation(tag, func(fl validator.FieldLevel) bool {
			return check(fl.Field().String())
		}); err != nil {
			panic(err) // a programming error in the tag table
		}
	}
	return v
}

// problems collects field errors in the order they are found, without duplicates.
type problems struct {
	list []domain.FieldError
	seen map[string]bool
}

func (p *problems) add(field, format string, args ...any) {
	fe := domain.FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
	k := fe.Field + "\x00" + fe.Message
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	if p.seen[k] {
		return
	}
	p.seen[k] = true
	p.list = append(p.list, fe)
}

// has reports whether a problem was recorded for field.
func (p *problems) has(field string) bool {
	for _, f := range p.list {
		if f.Field == field {
			return true
		}
	}
	return false
}

// structural runs the struct tags of v and records their failures under prefix.
func (p *problems) structural(prefix string, v any) {
	err := structs.Struct(v)
	var ves validator.ValidationErrors
	if !errors.As(err, &ves) {
		if err != nil {
			p.add(prefix, "%v", err)
		}
		return
	}
	for _, fe := range ves {
		// Namespace is "Config.rules[2].id"; drop the root type name.
		_, path, _ := strings.Cut(fe.Namespace(), ".")
		p.add(join(prefix, path), "%s", message(fe))
	}
}

func message(fe validator.FieldError) string {
	if p, ok := patterns[fe.Tag()]; ok {
		return p.msg
	}
	list := fe.Kind() == reflect.Slice || fe.Kind() == reflect.Map
	switch fe.Tag() {
	case "required":
		return "is required"
	case "max":
		if list {
			return "must have at most " + fe.Param() + " items"
		}
		return "must be at most " + fe.Param() + " characters"
	case "min":
		if list {
			return "must have at least " + fe.Param() + " items"
		}
		return "must be at least " + fe.Param() + " characters"
	case "oneof":
		return "must be one of: " + strings.ReplaceAll(fe.Param(), " ", ", ")
	}
	return "fails the " + fe.Tag() + " rule"
}

func (p *problems) err(what string) error {
	if len(p.list) == 0 {
		return nil
	}
	return domain.Invalid(what, p.list...)
}

func join(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	case field[0] == '[':
		return prefix + field
	}
	return prefix + "." + field
}

func at(prefix string, i int, field string) string {
	return join(fmt.Sprintf("%s[%d]", prefix, i), field)
}

// Project validates a project.
func Project(p domain.Project) error {
	var ps problems
	ps.structural("", p)
	return ps.err("project")
}

// Environment validates an environment.
func Environment(e domain.Environment) error {
	var ps problems
	ps.structural("", e)
	return ps.err("environment")
}
