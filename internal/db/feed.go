package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"sync"
	"sync/atomic"

	"modernc.org/sqlite"
)

// A feed hands texts made in Go to one running SQL statement, through the
// smartmfa_feed(id) function: FTS5 flushes its in-memory index at every
// statement, so a bulk load must be one statement to be one segment, and the
// texts arrive while the users are still being inserted on the other core.
type feed struct {
	ctx   context.Context
	in    <-chan []string
	batch []string
	grams map[string]struct{} // the trigrams of every text fed
}

var (
	feeds    sync.Map // id -> *feed
	feedSeq  atomic.Int64
	errNoFed = errors.New("smartmfa_feed: no such feed")
)

func init() {
	sqlite.MustRegisterScalarFunction("smartmfa_feed", 1,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			id, _ := args[0].(int64)
			f, ok := feeds.Load(id)
			if !ok {
				return nil, errNoFed
			}
			return f.(*feed).next()
		})
}

// openFeed registers a feed reading in and returns its id; close it with
// feeds.Delete(id).
func openFeed(ctx context.Context, in <-chan []string) (int64, *feed) {
	f := &feed{ctx: ctx, in: in, grams: map[string]struct{}{}}
	id := feedSeq.Add(1)
	feeds.Store(id, f)
	return id, f
}

// next returns the next text, or NULL once in is closed and drained.
func (f *feed) next() (driver.Value, error) {
	for len(f.batch) == 0 {
		select {
		case b, ok := <-f.in:
			if !ok {
				return nil, nil
			}
			f.batch = b
		case <-f.ctx.Done():
			return nil, f.ctx.Err()
		}
	}
	t := f.batch[0]
	f.batch = f.batch[1:]
	trigrams(t, f.grams)
	return t, nil
}
