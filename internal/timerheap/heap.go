// Package timerheap is the loop's timer queue: a binary min-heap of timers
// ordered by deadline, ties broken by insertion order so that timers due at
// the same instant fire first-in first-out (deterministic, unlike ordering
// by pointer or by a map).
//
// Nothing here is goroutine-safe: a Heap belongs to one loop.
package timerheap

// Node is the heap's bookkeeping, embedded in each timer. The zero Node is
// not in any heap.
type Node struct {
	when  int64  // deadline, in the owner's clock; fixed while in a heap
	seq   uint64 // insertion order, for ties
	index int    // position in the heap plus one; 0 when not in a heap
}

// When returns the deadline the node was pushed with.
func (n *Node) When() int64 { return n.when }

// Queued reports whether the node is in a heap.
func (n *Node) Queued() bool { return n.index != 0 }

// Elem is what a Heap holds: a pointer to a struct that embeds a Node.
type Elem interface{ HeapNode() *Node }

// Heap is a min-heap of timers. The zero Heap is empty and ready to use.
type Heap[E Elem] struct {
	es  []E
	seq uint64
}

// Len returns the number of timers in the heap.
func (h *Heap[E]) Len() int { return len(h.es) }

// Push adds e with deadline when. e must not be in a heap.
func (h *Heap[E]) Push(e E, when int64) {
	n := e.HeapNode()
	if n.index != 0 {
		panic("timerheap: Push of a queued timer")
	}
	h.seq++
	n.when, n.seq = when, h.seq
	h.es = append(h.es, e)
	n.index = len(h.es)
	h.up(len(h.es) - 1)
}

// Min returns the timer with the earliest deadline; ok is false when the
// heap is empty.
func (h *Heap[E]) Min() (e E, ok bool) {
	if len(h.es) == 0 {
		return e, false
	}
	return h.es[0], true
}

// Remove takes e out of the heap and reports whether it was in it.
func (h *Heap[E]) Remove(e E) bool {
	n := e.HeapNode()
	if n.index == 0 {
		return false
	}
	i := n.index - 1
	last := len(h.es) - 1
	if i != last {
		h.swap(i, last)
	}
	var zero E
	h.es[last] = zero
	h.es = h.es[:last]
	n.index = 0
	if i != last {
		if !h.down(i) {
			h.up(i)
		}
	}
	return true
}

func (h *Heap[E]) less(i, j int) bool {
	a, b := h.es[i].HeapNode(), h.es[j].HeapNode()
	return a.when < b.when || a.when == b.when && a.seq < b.seq
}

func (h *Heap[E]) swap(i, j int) {
	h.es[i], h.es[j] = h.es[j], h.es[i]
	h.es[i].HeapNode().index = i + 1
	h.es[j].HeapNode().index = j + 1
}

func (h *Heap[E]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

// down sifts i down and reports whether it moved.
func (h *Heap[E]) down(i int) bool {
	start := i
	for {
		l := 2*i + 1
		if l >= len(h.es) {
			break
		}
		m := l
		if r := l + 1; r < len(h.es) && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			break
		}
		h.swap(i, m)
		i = m
	}
	return i > start
}
