//go:build !race

package ioco

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysRead and sysWrite are read(2) and write(2) on a non-blocking fd, as
// raw system calls. They never block, and an ordinary system call tells the
// runtime's monitor thread that it entered one, waking it if it slept: on
// the echo benchmark that was most of the monitor's CPU time, about 0.7 µs a
// message. Under the race detector they are unix.Read and unix.Write,
// which tell the detector about the memory the kernel writes.
func sysRead(fd int, b []byte) (int, error) {
	return rawRW(unix.SYS_READ, fd, b)
}

func sysWrite(fd int, b []byte) (int, error) {
	return rawRW(unix.SYS_WRITE, fd, b)
}

// rawRW makes the raw call trap with b, which must not be empty.
func rawRW(trap uintptr, fd int, b []byte) (int, error) {
	n, _, e := unix.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}
