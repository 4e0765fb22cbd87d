package main

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestEventReader(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		name string
		in   string
		want []event
		err  error // after the events
	}{
		{name: "the evaluator's stream",
			in:   "retry: 1000\n\nid: 42\ndata: {\"version\":42}\n\n: heartbeat\n\nid: 43\ndata: {\"version\":43}\n\n",
			want: []event{{"42", `{"version":42}`}, {"43", `{"version":43}`}}, err: io.EOF},
		{name: "CRLF line ends", in: "id: 7\r\ndata: {\"version\":7}\r\n\r\n",
			want: []event{{"7", `{"version":7}`}}, err: io.EOF},
		{name: "no space after the colon", in: "id:7\ndata:{\"version\":7}\n\n",
			want: []event{{"7", `{"version":7}`}}, err: io.EOF},
		{name: "only the first space is dropped", in: "data:  two\n\n",
			want: []event{{"", " two"}}, err: io.EOF},
		{name: "data lines joined", in: "data: a\ndata: b\n\n",
			want: []event{{"", "a\nb"}}, err: io.EOF},
		{name: "an id without data is no event", in: "id: 3\n\ndata: x\n\n",
			want: []event{{"", "x"}}, err: io.EOF},
		{name: "unknown fields and event names ignored", in: "event: change\nfoo: bar\ndata: x\n\n",
			want: []event{{"", "x"}}, err: io.EOF},
		{name: "a field without a colon", in: "data\n\n",
			want: []event{{"", ""}}, err: io.EOF},
		{name: "a line longer than the buffer", in: "data: " + long + "\n\n",
			want: []event{{"", long}}, err: io.EOF},
		{name: "cut in the middle of an event", in: "id: 1\ndata: {\"vers",
			err: io.EOF},
		{name: "heartbeats only", in: ": heartbeat\n\n: heartbeat\n\n", err: io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			er := newEventReader(bufio.NewReaderSize(strings.NewReader(tt.in), 16))
			for i, want := range tt.want {
				got, err := er.next()
				if err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				if got != want {
					t.Fatalf("event %d: got %+v, want %+v", i, got, want)
				}
			}
			if _, err := er.next(); !errors.Is(err, tt.err) {
				t.Fatalf("after the events: got %v, want %v", err, tt.err)
			}
		})
	}
}

func TestEventVersion(t *testing.T) {
	tests := []struct {
		name string
		ev   event
		want int64
		ok   bool
	}{
		{"data", event{"42", `{"version":42}`}, 42, true},
		{"data wins over id", event{"1", `{"version":2}`}, 2, true},
		{"id when data has none", event{"9", `{"type":"refetchEvaluation"}`}, 9, true},
		{"id when data is not JSON", event{"9", `hello`}, 9, true},
		{"version zero", event{"", `{"version":0}`}, 0, true},
		{"neither", event{"", `{}`}, 0, false},
		{"id not a number", event{"abc", ``}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ev.version()
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("got %d, %v; want %d, ok %v", got, err, tt.want, tt.ok)
			}
		})
	}
}
