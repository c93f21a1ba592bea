package scheduler

import (
	"testing"
	"unsafe"
)

// The handle is all that spawning a task allocates (see Task): it stays in
// the 48-byte size class.
func TestTaskHandleSize(t *testing.T) {
	if n := unsafe.Sizeof(Task{}); n > 48 {
		t.Errorf("a Task is %d bytes, more than the 48 of its budget", n)
	}
}
