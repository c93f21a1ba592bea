package scheduler

// entry is one item of the run queue: a task or a callback.
type entry struct {
	t *Task
	h *Handle
}

// runq is a FIFO ring of entries. Entries of tasks that were killed and of
// callbacks that were cancelled go stale in place and are skipped when they
// come up.
type runq struct {
	buf  []entry // len is a power of two
	head int
	n    int
}

// push and pop store only the pointer an entry holds (a free slot is
// zero): while a collection marks, every pointer store pays the write
// barrier, and every task switch passes through here.
func (q *runq) push(e entry) {
	if q.n == len(q.buf) {
		q.grow()
	}
	s := &q.buf[(q.head+q.n)&(len(q.buf)-1)]
	if e.t != nil {
		s.t = e.t
	} else {
		s.h = e.h
	}
	q.n++
}

func (q *runq) pop() entry {
	s := &q.buf[q.head]
	e := *s
	if e.t != nil {
		s.t = nil
	} else {
		s.h = nil
	}
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	return e
}

// take removes and returns the i-th entry from the front: the front entry
// takes its place.
func (q *runq) take(i int) entry {
	if i > 0 {
		mask := len(q.buf) - 1
		j := (q.head + i) & mask
		q.buf[q.head], q.buf[j] = q.buf[j], q.buf[q.head]
	}
	return q.pop()
}

func (q *runq) grow() {
	buf := make([]entry, max(2*len(q.buf), 16))
	for i := range q.n {
		buf[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
	}
	q.buf, q.head = buf, 0
}
