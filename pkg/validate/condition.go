package validate

import (
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
)

// operatorList names the allowed operators in error messages.
var operatorList = func() string {
	names := make([]string, len(domain.Operators))
	for i, o := range domain.Operators {
		names[i] = string(o)
	}
	return strings.Join(names, ", ")
}()

func (ps *problems) condition(path string, c domain.Condition, regexes *domain.RegexTally) {
	if msg := attributeProblem(c.Attribute); msg != "" {
		ps.add(path+".attribute", "%s", msg)
	}
	if c.Operator == "" {
		ps.add(path+".operator", "is required; allowed: %s", operatorList)
		return
	}
	spec, ok := c.Operator.Spec()
	if !ok {
		ps.add(path+".operator", "unknown operator %q; allowed: %s", c.Operator, operatorList)
		return
	}
	field := path + ".values"
	n := len(c.Values)
	what := spec.Values.Describe()
	switch {
	case spec.Max == 0 && n > 0:
		ps.add(field, "%s takes no values", c.Operator)
		return
	case spec.Min == 1 && spec.Max == 1 && n != 1:
		ps.add(field, "%s takes exactly one value: %s", c.Operator, what)
		return
	case n < spec.Min:
		ps.add(field, "%s takes at least %d value(s): each %s", c.Operator, spec.Min, what)
		return
	case n > spec.Max:
		ps.add(field, "%s takes at most %d values (it has %d; the limit is %s)", c.Operator, spec.Max, n, spec.Limit)
		return
	}
	for i, v := range c.Values {
		if msg := spec.Values.Problem(v); msg != "" {
			ps.add(at(field, i, ""), "%s", msg)
		} else if spec.Values == domain.RegexValue {
			ps.regex(at(field, i, ""), v.(string), regexes)
		}
	}
}
