// Package logsink writes the server's log lines without a write system
// call per line: lines handed to a Writer are appended to a pending buffer
// and written by one goroutine, which takes everything pending at once, so
// that under load many requests' access-log lines share one write(2).
//
// The first line after the goroutine went idle wakes it; it lingers a
// moment (Linger, 1 ms: the group-commit delay of databases, Kafka's
// linger.ms) so that the lines of that moment go out with it, then writes.
// A line therefore reaches the underlying writer at most about a linger
// after Write returned, in Write order, and the goroutine wakes at most
// once per linger however many requests log. What can be lost is what is
// pending when the process dies without Close (SIGKILL, a fatal runtime
// error): the lines of its last millisecond. Close (the server's shutdown)
// writes everything first.
//
// The pending buffer is bounded: a Write that would take it past the limit
// waits until the writing goroutine has taken what is there, so a stalled
// log reader slows the server down (as a direct write would) instead of
// growing its memory.
package logsink

import (
	"io"
	"sync"
	"time"
)

// DefaultLimit bounds the pending buffer (New's limit when 0).
const DefaultLimit = 1 << 20

// Linger is how long the writing goroutine waits, once woken, for more
// lines before it writes (New's linger when 0).
const Linger = time.Millisecond

// keepSpare is the largest buffer kept for reuse after a write.
const keepSpare = 256 << 10

// Writer is an io.Writer that hands lines to one writing goroutine (see
// the package comment). Safe for concurrent use.
type Writer struct {
	w      io.Writer
	limit  int
	linger time.Duration

	mu      sync.Mutex
	drained sync.Cond // broadcast when a batch has been written
	pending []byte
	spare   []byte
	writing bool // a batch is being written
	closed  bool

	wake  chan struct{} // capacity 1: a write is wanted
	stop  chan struct{}
	done  chan struct{}
	close sync.Once
}

// New starts the writing goroutine for w; limit bounds the pending bytes
// (DefaultLimit when 0), linger is the wait for more lines once woken
// (Linger when 0, none when negative). Close stops it.
func New(w io.Writer, limit int, linger time.Duration) *Writer {
	if limit <= 0 {
		limit = DefaultLimit
	}
	if linger == 0 {
		linger = Linger
	}
	s := &Writer{w: w, limit: limit, linger: max(linger, 0), wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	s.drained.L = &s.mu
	go s.run()
	return s
}

// Write queues p (one log line, as slog's handlers write them) and returns
// len(p). It waits only while the pending buffer is full. After Close it
// writes p itself.
func (s *Writer) Write(p []byte) (int, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return s.w.Write(p)
	}
	for len(s.pending) > 0 && len(s.pending)+len(p) > s.limit && !s.closed {
		s.drained.Wait()
	}
	if s.closed {
		s.mu.Unlock()
		return s.w.Write(p)
	}
	s.pending = append(s.pending, p...)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default: // already woken: it will take this line too
	}
	return len(p), nil
}

// run writes what is pending whenever it is woken, until Close.
func (s *Writer) run() {
	defer close(s.done)
	for {
		select {
		case <-s.wake:
			if s.linger > 0 {
				select {
				case <-time.After(s.linger):
				case <-s.stop:
				}
			}
			s.writePending()
		case <-s.stop:
			s.writePending()
			return
		}
	}
}

// writePending writes batches until nothing is pending. A write error is
// dropped, as slog drops it: there is nowhere left to report it.
func (s *Writer) writePending() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.pending) > 0 {
		batch := s.pending
		s.pending, s.writing = s.spare[:0], true
		s.mu.Unlock()
		_, _ = s.w.Write(batch)
		s.mu.Lock()
		s.writing = false
		if cap(batch) <= keepSpare {
			s.spare = batch[:0]
		} else {
			s.spare = nil
		}
		s.drained.Broadcast()
	}
}

// Flush returns once every line written before it has been handed to the
// underlying writer.
func (s *Writer) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for (len(s.pending) > 0 || s.writing) && !s.closed {
		select {
		case s.wake <- struct{}{}:
		default:
		}
		s.drained.Wait()
	}
}

// Close writes what is pending and stops the writing goroutine; later
// Writes go straight to the underlying writer. Safe to call more than once.
func (s *Writer) Close() error {
	s.close.Do(func() {
		close(s.stop)
		<-s.done
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.pending) > 0 { // queued while the goroutine stopped
			_, _ = s.w.Write(s.pending)
			s.pending = nil
		}
		s.closed = true
		s.drained.Broadcast()
	})
	return nil
}
