//go:build linux

package poll

// Millis exposes Wait's timeout conversion to the external tests.
var Millis = millis
