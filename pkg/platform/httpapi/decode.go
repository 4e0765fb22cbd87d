package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
)

// Decode reads the JSON body of c into v strictly: unknown fields, wrong types,
// trailing data and bodies over the limit are errors that name the field.
func Decode(c echo.Context, v any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return ReadError(err)
	}
	return DecodeBytes(body, v)
}

// ReadError is the answer to a request body that could not be read: 413 past the
// body limit, 400 otherwise.
func ReadError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return domain.Errorf(domain.CodeTooLarge, "the request body is larger than %d bytes", tooLarge.Limit)
	}
	return domain.Wrap(domain.CodeInvalid, err, "the request body could not be read")
}

// DecodeBytes is Decode for a body already read. It first checks the whole document
// against v's type, so that every unknown field and every value of the wrong type is
// reported at once, each with its path (rules[0].conditions[1].operator). Strings
// holding invalid UTF-8 or \u0000, which PostgreSQL text refuses, are reported too.
func DecodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return invalid("body", "is required: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("body", "must hold one JSON value, without trailing data")
	}
	var fields []domain.FieldError
	check(reflect.TypeOf(v), doc, "", &fields)
	fields = append(fields, jsonTextProblems(body)...)
	if len(fields) > 0 {
		return domain.Invalid("request body", fields...)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return decodeError(err)
	}
	return nil
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

// check compares a decoded JSON value with the Go type it will be decoded into.
func check(t reflect.Type, v any, path string, out *[]domain.FieldError) {
	for t.Kind() == reflect.Pointer {
		if v == nil {
			return
		}
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshaler) || t.Kind() == reflect.Interface {
		return // decodes itself, or takes any value
	}
	if v == nil {
		return // null leaves the zero value
	}
	at := path
	if at == "" {
		at = "body"
	}
	wrong := func(want string) {
		*out = append(*out, domain.FieldError{Field: at, Message: fmt.Sprintf("must be %s, not %s", want, jsonKind(v))})
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			wrong("an object")
			return
		}
		known := jsonFields(t)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := known[k]
			if !ok {
				*out = append(*out, domain.FieldError{Field: joinPath(path, k), Message: "is not a known field"})
				continue
			}
			check(ft, obj[k], joinPath(path, k), out)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			wrong("an object")
			return
		}
		for k, e := range obj {
			check(t.Elem(), e, joinPath(path, k), out)
		}
	case reflect.Slice, reflect.Array:
		arr, ok := v.([]any)
		if !ok {
			wrong("an array")
			return
		}
		for i, e := range arr {
			check(t.Elem(), e, fmt.Sprintf("%s[%d]", path, i), out)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			wrong("a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			wrong("a boolean")
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			wrong("a number")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			wrong("a whole number")
			return
		}
		if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
			*out = append(*out, domain.FieldError{Field: at, Message: "must be a whole number"})
		}
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonFields maps the JSON names of a struct's fields, embedded structs' included, to
// their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for k, v := range jsonFields(et) {
					if _, taken := out[k]; !taken {
						out[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "null"
}

func invalid(field, message string) error {
	return domain.InvalidField("request body", field, message)
}

func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return invalid("body", fmt.Sprintf("malformed JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: ")))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("body", "malformed JSON: unexpected end")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return invalid(field, fmt.Sprintf("must be %s, not %s", jsonType(typ.Type.Kind().String()), typ.Value))
	}
	return invalid("body", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonType names a Go kind the way a JSON author thinks of it.
func jsonType(kind string) string {
	switch {
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "a boolean"
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "slice", kind == "array":
		return "an array"
	case kind == "map", kind == "struct":
		return "an object"
	}
	return "another type"
}
