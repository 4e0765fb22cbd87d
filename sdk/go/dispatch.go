package switchyard

import (
	"context"
	"fmt"
	"log/slog"
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
}

func newDispatcher(log *slog.Logger) *dispatcher {
	d := &dispatcher{log: log, wake: make(chan struct{}, 1), stopCh: make(chan struct{}), done: make(chan struct{})}
	go d.run()
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

func (d *dispatcher) run() {
	defer close(d.done)
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

// stop ends the goroutine once the running callback returns, or gives up waiting when
// ctx ends.
func (d *dispatcher) stop(ctx context.Context) error {
	d.once.Do(func() { close(d.stopCh) })
	select {
	case <-d.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("switchyard: waiting for a callback to return: %w", ctx.Err())
	}
}
