package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// event is one server-sent event: its id and its data lines joined by newlines.
type event struct{ id, data string }

// eventReader reads server-sent events from a stream's body: the part of the format
// the evaluator writes (id, data, retry, comments). Event names are ignored, and lines
// end with LF or CRLF (a lone CR, which the format also allows, is not a line end
// here). Its buffers are reused, so one stream costs a few hundred bytes.
type eventReader struct {
	r        *bufio.Reader
	long     []byte // a line longer than r's buffer, put together
	id, data []byte
}

func newEventReader(r *bufio.Reader) *eventReader { return &eventReader{r: r} }

// next returns the next event. Blocks without data (the retry field alone, or only
// comments such as heartbeats) are skipped, as EventSource does.
func (er *eventReader) next() (event, error) {
	er.id, er.data = er.id[:0], er.data[:0]
	hasData := false
	for {
		line, err := er.line()
		if err != nil {
			return event{}, err
		}
		if len(line) == 0 {
			if hasData {
				return event{id: string(er.id), data: string(er.data)}, nil
			}
			er.id = er.id[:0]
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" ")) // one space, as the format says
		switch string(field) {
		case "data":
			if hasData {
				er.data = append(er.data, '\n')
			}
			er.data = append(er.data, value...)
			hasData = true
		case "id":
			er.id = append(er.id[:0], value...)
		}
	}
}

// line returns the next line without its end. An end of input in the middle of a
// line is an error: the event it belongs to is incomplete.
func (er *eventReader) line() ([]byte, error) {
	line, err := er.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		er.long = append(er.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = er.r.ReadSlice('\n')
			er.long = append(er.long, line...)
		}
		line = er.long
	}
	if err != nil {
		return nil, err
	}
	line = line[:len(line)-1]
	return bytes.TrimSuffix(line, []byte("\r")), nil
}

// version is the environment version an event of GET /api/v1/stream announces:
// {"version":N} in its data, or else its id.
func (e event) version() (int64, error) {
	var body struct {
		Version *int64 `json:"version"`
	}
	if json.Unmarshal([]byte(e.data), &body) == nil && body.Version != nil {
		return *body.Version, nil
	}
	if v, err := strconv.ParseInt(e.id, 10, 64); err == nil {
		return v, nil
	}
	return 0, fmt.Errorf("an event without a version: id %q, data %.100q", e.id, e.data)
}
