package scheduler

// WatchChecks returns how many checks the block watch of l has made so far
// (0 without one). Safe to call from any goroutine.
func WatchChecks(l *Loop) uint64 {
	if l.watch == nil {
		return 0
	}
	return l.watch.ticks.Load()
}
