//go:build race

package ioco

import "golang.org/x/sys/unix"

// See sys_norace.go.
func sysRead(fd int, b []byte) (int, error)  { return unix.Read(fd, b) }
func sysWrite(fd int, b []byte) (int, error) { return unix.Write(fd, b) }
