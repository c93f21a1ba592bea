package ioco

import (
	"context"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// FileListener returns a listener of the loop that ctx carries on a copy
// of f, an open listening stream socket, as package net's FileListener
// does: the way a worker process takes over the socket its supervisor
// listened on and handed down (exec.Cmd's ExtraFiles, systemd's socket
// activation). A TCP socket gives a *TCPListener, a Unix one a
// *UnixListener, whose Close leaves the socket's file in place (the
// listener did not make it). The copy is a new descriptor of the same
// open socket: closing one of the two does not close the other, so the
// caller closes f once it is no longer needed. The copy is made
// non-blocking, and f with it (the flag belongs to the open socket, not to
// a descriptor), as with package net's FileListener.
//
// The flag is shared the other way too: os.File.Fd makes the socket
// blocking for every process that has it, and os/exec calls Fd on each of
// a Cmd's ExtraFiles at every Start. A supervisor that starts workers
// while others serve the socket must therefore pass a file that was never
// asked for its Fd, such as os.NewFile of a dup(2) of the socket (see
// httpco/prefork), or a worker's loop blocks in accept4.
//
// FileListener fails with a *net.OpError ("file" on "file+net", as
// package net's) wrapping syscall.EINVAL when f is not a listening stream
// socket (a regular file, a connected socket, a datagram socket), and with
// the loop's errors (scheduler.ErrNoLoop...). Never parks.
func FileListener(ctx context.Context, f *os.File) (net.Listener, error) {
	fail := func(err error) (net.Listener, error) {
		return nil, &net.OpError{Op: "file", Net: "file+net", Addr: fileAddr(f.Name()), Err: err}
	}
	raw, err := f.SyscallConn()
	if err != nil {
		return fail(err)
	}
	sysfd := -1
	if cerr := raw.Control(func(fd uintptr) {
		sysfd, err = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); cerr != nil {
		return fail(cerr)
	}
	if err != nil {
		return fail(os.NewSyscallError("fcntl", err))
	}
	network, laddr, err := listeningSocket(sysfd)
	if err == nil {
		err = unix.SetNonblock(sysfd, true)
	}
	if err != nil {
		unix.Close(sysfd)
		return fail(err)
	}
	fd, err := newFD(ctx, sysfd, network) // closes sysfd on failure
	if err != nil {
		return nil, err
	}
	fd.laddr = laddr
	if network == "unix" {
		return &UnixListener{fd: *fd}, nil // no path: Close removes no file
	}
	return &TCPListener{fd: *fd}, nil
}

// listeningSocket checks that sysfd is a listening stream socket of a
// family this package serves, and returns its network and address.
func listeningSocket(sysfd int) (network string, laddr net.Addr, err error) {
	typ, err := unix.GetsockoptInt(sysfd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil { // ENOTSOCK: not a socket at all
		return "", nil, unix.EINVAL
	}
	listening, err := unix.GetsockoptInt(sysfd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	if err != nil || typ != unix.SOCK_STREAM || listening != 1 {
		return "", nil, unix.EINVAL
	}
	sa, err := unix.Getsockname(sysfd)
	if err != nil {
		return "", nil, os.NewSyscallError("getsockname", err)
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4, *unix.SockaddrInet6:
		return "tcp", tcpAddr(sa), nil
	case *unix.SockaddrUnix:
		return "unix", &net.UnixAddr{Name: sa.Name, Net: "unix"}, nil
	}
	return "", nil, unix.EINVAL
}

// fileAddr is the address in FileListener's errors: the file's name.
type fileAddr string

func (fileAddr) Network() string  { return "file+net" }
func (f fileAddr) String() string { return string(f) }
