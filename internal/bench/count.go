package bench

import (
	"context"
	"database/sql/driver"
	"sync"
	"sync/atomic"
)

// Counter counts the SQL statements run through a connection pool: every
// query and exec the driver carries out, whether sent directly or as a
// prepared statement (a MySQL prepare/execute/close is one statement).
// BEGIN and COMMIT are not counted. Both sides of the harness open their
// pools through it, so their counts compare exactly.
type Counter struct {
	n atomic.Int64
	// recording, when set, is where the statements' text goes as well
	// (Record): for tests, off under load.
	recording atomic.Pointer[recorder]
}

type recorder struct {
	mu    sync.Mutex
	stmts []string
}

// N is the number of statements so far.
func (c *Counter) N() int64 { return c.n.Load() }

// Record starts keeping the text of every statement counted from now on,
// and returns a func that stops and answers them, in order.
func (c *Counter) Record() func() []string {
	r := &recorder{}
	c.recording.Store(r)
	return func() []string {
		c.recording.CompareAndSwap(r, nil)
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.stmts
	}
}

// count counts statement q.
func (c *Counter) count(q string) {
	c.n.Add(1)
	if r := c.recording.Load(); r != nil {
		r.mu.Lock()
		r.stmts = append(r.stmts, q)
		r.mu.Unlock()
	}
}

// countingConnector wraps a driver.Connector.
type countingConnector struct {
	inner driver.Connector
	c     *Counter
}

func (cc countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := cc.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, c: cc.c}, nil
}

func (cc countingConnector) Driver() driver.Driver { return cc.inner.Driver() }

// countingConn forwards every optional interface database/sql looks for,
// so the pool behaves as it would on the bare driver.
type countingConn struct {
	driver.Conn
	c *Counter
}

func (w *countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := w.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	r, err := e.ExecContext(ctx, q, args)
	if err != driver.ErrSkip {
		w.c.count(q)
	}
	return r, err
}

func (w *countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	e, ok := w.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	r, err := e.QueryContext(ctx, q, args)
	if err != driver.ErrSkip {
		w.c.count(q)
	}
	return r, err
}

func (w *countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	var (
		s   driver.Stmt
		err error
	)
	if p, ok := w.Conn.(driver.ConnPrepareContext); ok {
		s, err = p.PrepareContext(ctx, q)
	} else {
		s, err = w.Prepare(q)
	}
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: s, c: w.c, q: q}, nil
}

func (w *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := w.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return w.Begin() //nolint:staticcheck // the driver has no BeginTx
}

func (w *countingConn) Ping(ctx context.Context) error {
	if p, ok := w.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (w *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := w.Conn.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func (w *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := w.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (w *countingConn) IsValid() bool {
	if v, ok := w.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

type countingStmt struct {
	driver.Stmt
	c *Counter
	q string
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.c.count(s.q)
	if e, ok := s.Stmt.(driver.StmtExecContext); ok {
		return e.ExecContext(ctx, args)
	}
	vals, err := values(args)
	if err != nil {
		return nil, err
	}
	return s.Exec(vals) //nolint:staticcheck // the driver has no ExecContext
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.c.count(s.q)
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		return q.QueryContext(ctx, args)
	}
	vals, err := values(args)
	if err != nil {
		return nil, err
	}
	return s.Query(vals) //nolint:staticcheck // the driver has no QueryContext
}

func (s *countingStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func values(args []driver.NamedValue) ([]driver.Value, error) {
	out := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, driver.ErrSkip
		}
		out[i] = a.Value
	}
	return out, nil
}
