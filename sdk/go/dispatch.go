package switchyard

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
)

// dispatcher runs the application's callbacks one at a time, in order, on its own
// goroutine, so that neither the data source nor a lock of the client waits for them.
type dispatcher struct {
	log    *slog.Logger
	mu     sync.Mutex
	queue  []func()
	wake   chan struct{}
	stopCh chan struct{}
	done   chan struct{}
	once   sync.Once
	// gid is the id of the dispatcher's goroutine, for stop to tell when a callback
	// calls it; 0 if it could not be read.
	gid uint64
}

func newDispatcher(log *slog.Logger) *dispatcher {
	d := &dispatcher{log: log, wake: make(chan struct{}, 1), stopCh: make(chan struct{}), done: make(chan struct{})}
	started := make(chan struct{})
	go d.run(started)
	<-started
	return d
}

// do queues f; after stop, f is dropped.
func (d *dispatcher) do(f func()) {
	select {
	case <-d.stopCh:
		return
	default:
	}
	d.mu.Lock()
	d.queue = append(d.queue, f)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *dispatcher) run(started chan<- struct{}) {
	defer close(d.done)
	d.gid = goid()
	close(started)
	for {
		select {
		case <-d.stopCh:
			return
		case <-d.wake:
		}
		for {
			d.mu.Lock()
			if len(d.queue) == 0 {
				d.mu.Unlock()
				break
			}
			f := d.queue[0]
			d.queue[0] = nil
			d.queue = d.queue[1:]
			d.mu.Unlock()
			d.call(f)
			select {
			case <-d.stopCh:
				return
			default:
			}
		}
	}
}

func (d *dispatcher) call(f func()) {
	defer func() {
		if r := recover(); r != nil {
			d.log.Error("switchyard: a callback panicked", "panic", fmt.Sprint(r))
		}
	}()
	f()
}

// inCallback reports whether the caller is a callback: whether it runs on the
// dispatcher's goroutine.
func (d *dispatcher) inCallback() bool {
	return d.gid != 0 && goid() == d.gid
}

// stop ends the goroutine once the running callback returns, or gives up waiting when
// ctx ends. Called from a callback, it does not wait (the callback would wait for
// itself): the goroutine ends when that callback returns.
func (d *dispatcher) stop(ctx context.Context) error {
	d.once.Do(func() { close(d.stopCh) })
	if d.inCallback() {
		return nil
	}
	select {
	case <-d.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("switchyard: waiting for a callback to return: %w", ctx.Err())
	}
}

// goid returns the id of the calling goroutine, read from the first line of its stack
// ("goroutine 18 [running]:"), or 0. Go offers no other way to ask whether a call
// comes from a given goroutine; it is read only when the dispatcher starts and when
// the client closes, never per callback.
func goid() uint64 {
	var buf [64]byte
	b := bytes.TrimPrefix(buf[:runtime.Stack(buf[:], false)], []byte("goroutine "))
	b, _, _ = bytes.Cut(b, []byte(" "))
	id, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0
	}
	return id
}
