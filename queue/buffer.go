package queue

// order is how a buffer gives its items back.
type order uint8

const (
	unmade   order = iota // the zero value: no constructor ran
	fifo                  // oldest first: a ring
	lifo                  // newest first: a stack
	priority              // least first: a binary heap ordered by less
)

// buffer holds a queue's items in its order. Its slice grows by doubling and
// is reused, so that steady Put and Get do not allocate.
type buffer[T any] struct {
	order order
	less  func(a, b T) bool // priority only
	items []T               // fifo: a ring of len a power of two; else items[:n]
	head  int               // fifo: the oldest item's index
	n     int
}

func (b *buffer[T]) len() int { return b.n }

func (b *buffer[T]) push(v T) {
	if b.n == len(b.items) {
		b.grow()
	}
	switch b.order {
	case fifo:
		b.items[(b.head+b.n)&(len(b.items)-1)] = v
		b.n++
	case lifo:
		b.items[b.n] = v
		b.n++
	default:
		if b.less == nil {
			panic("queue: Put on a PriorityQueue made with a nil less function")
		}
		b.items[b.n] = v
		b.n++
		b.up(b.n - 1)
	}
}

// pop removes and returns the next item; the buffer is not empty.
func (b *buffer[T]) pop() T {
	var zero T
	switch b.order {
	case fifo:
		v := b.items[b.head]
		b.items[b.head] = zero
		b.head = (b.head + 1) & (len(b.items) - 1)
		b.n--
		return v
	case lifo:
		b.n--
		v := b.items[b.n]
		b.items[b.n] = zero
		return v
	default:
		v := b.items[0]
		b.n--
		b.items[0] = b.items[b.n]
		b.items[b.n] = zero
		b.down(0)
		return v
	}
}

// unpop puts back an item that pop gave out, where it came from: the front
// of a FIFO, the top of a LIFO (a heap finds its place again).
func (b *buffer[T]) unpop(v T) {
	if b.order != fifo {
		b.push(v)
		return
	}
	if b.n == len(b.items) {
		b.grow()
	}
	b.head = (b.head - 1) & (len(b.items) - 1)
	b.items[b.head] = v
	b.n++
}

// insert puts v in a FIFO buffer as its i-th item from the front, for i at
// most its length.
func (b *buffer[T]) insert(i int, v T) {
	b.unpop(v)
	mask := len(b.items) - 1
	for j := range i {
		x, y := (b.head+j)&mask, (b.head+j+1)&mask
		b.items[x], b.items[y] = b.items[y], b.items[x]
	}
}

func (b *buffer[T]) grow() {
	items := make([]T, max(2*len(b.items), 8))
	if b.order == fifo {
		for i := range b.n {
			items[i] = b.items[(b.head+i)&(len(b.items)-1)]
		}
		b.head = 0
	} else {
		copy(items, b.items[:b.n])
	}
	b.items = items
}

func (b *buffer[T]) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !b.less(b.items[i], b.items[parent]) {
			return
		}
		b.items[i], b.items[parent] = b.items[parent], b.items[i]
		i = parent
	}
}

func (b *buffer[T]) down(i int) {
	for {
		least, l, r := i, 2*i+1, 2*i+2
		if l < b.n && b.less(b.items[l], b.items[least]) {
			least = l
		}
		if r < b.n && b.less(b.items[r], b.items[least]) {
			least = r
		}
		if least == i {
			return
		}
		b.items[i], b.items[least] = b.items[least], b.items[i]
		i = least
	}
}
