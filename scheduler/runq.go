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

func (q *runq) push(e entry) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = e
	q.n++
}

func (q *runq) pop() entry {
	e := q.buf[q.head]
	q.buf[q.head] = entry{}
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
