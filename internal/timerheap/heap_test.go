package timerheap_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/evergo/evergo/internal/timerheap"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type tm struct {
	node timerheap.Node
	id   int
}

func (t *tm) HeapNode() *timerheap.Node { return &t.node }

func drain(h *timerheap.Heap[*tm]) []int {
	var ids []int
	for {
		t, ok := h.Min()
		if !ok {
			return ids
		}
		h.Remove(t)
		ids = append(ids, t.id)
	}
}

func TestEqualDeadlinesComeOutInPushOrder(t *testing.T) {
	var h timerheap.Heap[*tm]
	for i := range 10 {
		h.Push(&tm{id: i}, int64(i%2)) // evens at 0, odds at 1
	}
	if got, want := drain(&h), []int{0, 2, 4, 6, 8, 1, 3, 5, 7, 9}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

func TestRemoveFromTheMiddleKeepsOrderAgainstAModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h timerheap.Heap[*tm]
	var model []*tm
	for i := range 2000 {
		if len(model) > 0 && r.IntN(3) == 0 {
			victim := model[r.IntN(len(model))]
			if !h.Remove(victim) {
				t.Fatal("Remove of a queued timer reported false")
			}
			if h.Remove(victim) || victim.node.Queued() {
				t.Fatal("a removed timer is still queued")
			}
			model = slices.DeleteFunc(model, func(x *tm) bool { return x == victim })
			continue
		}
		x := &tm{id: i}
		h.Push(x, int64(r.IntN(50)))
		model = append(model, x)
	}
	slices.SortStableFunc(model, func(a, b *tm) int { return int(a.node.When() - b.node.When()) })
	var want []int
	for _, x := range model {
		want = append(want, x.id)
	}
	if got := drain(&h); !slices.Equal(got, want) {
		t.Fatalf("heap order differs from the model's")
	}
}

func TestPushOfAQueuedTimerPanics(t *testing.T) {
	var h timerheap.Heap[*tm]
	x := &tm{}
	h.Push(x, 1)
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	h.Push(x, 2)
}
