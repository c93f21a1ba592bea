package ioco

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysRead and sysWrite are a socket's read and write: recvfrom(2) and
// sendto(2) with no address and MSG_DONTWAIT, made as raw system calls.
//
// MSG_DONTWAIT makes the call non-blocking whatever the socket's own flag
// says. The flag belongs to the open file description, which a FileConn
// shares with the caller's *os.File, and os.File.Fd, for one, sets it back
// to blocking. A raw call is one the runtime does not know about: were it to
// block, its thread would keep its P and no other goroutine could run on it,
// nor could a stop-the-world for the garbage collector complete.
//
// Raw, because an ordinary system call tells the runtime's monitor thread
// that it entered one, waking it if it slept: on the echo benchmark that was
// most of the monitor's CPU time, about 0.7 µs a message. The cost is that
// the race detector does not see the kernel's writes into b, as it does
// through unix.Read; the conns are not goroutine-safe in any case.
//
// MSG_NOSIGNAL: a write to a socket whose peer is gone fails with EPIPE and
// raises no SIGPIPE.
func sysRead(fd int, b []byte) (int, error) {
	return rawIO(unix.SYS_RECVFROM, fd, b, unix.MSG_DONTWAIT)
}

func sysWrite(fd int, b []byte) (int, error) {
	return rawIO(unix.SYS_SENDTO, fd, b, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
}

// rawIO makes the raw call trap (recvfrom or sendto) with b, which must not
// be empty, flags, and no address.
func rawIO(trap uintptr, fd int, b []byte, flags int) (int, error) {
	n, _, e := unix.RawSyscall6(trap, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(flags), 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}
