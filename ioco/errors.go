package ioco

import "errors"

// errNoTask is the error of a call that may park made where no task of the
// conn's loop is running: in a callback, or from another goroutine while the
// loop waits. A conn belongs to its loop's tasks.
var errNoTask = errors.New("ioco: no task of the conn's loop is running (called from a callback or another goroutine?)")
