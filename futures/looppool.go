package futures

import (
	"context"

	"github.com/evergo/evergo/scheduler"
)

// LoopPoolSize is the size of the ThreadPool that LoopPool makes.
const LoopPoolSize = 32

type loopPoolKey struct{}

// LoopPool returns the ThreadPool of the loop that ctx carries, made at the
// first call with LoopPoolSize goroutines at most: the pool for blocking
// calls made on behalf of the loop's tasks by packages that have none of
// their own, such as ioco's name lookups and file I/O (gevent's hub
// threadpool). Like any ThreadPool it starts no goroutine until its first
// Submit and is released when the loop ends; do not shut it down. It fails
// with scheduler.ErrNoLoop for a ctx without a loop. Never parks.
func LoopPool(ctx context.Context) (*ThreadPool, error) {
	l := scheduler.LoopOf(ctx)
	if l == nil {
		return nil, scheduler.ErrNoLoop
	}
	if p, ok := l.Value(loopPoolKey{}).(*ThreadPool); ok {
		return p, nil
	}
	p, err := NewThreadPool(LoopPoolSize)
	if err != nil {
		return nil, err
	}
	l.SetValue(loopPoolKey{}, p)
	return p, nil
}
