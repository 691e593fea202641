package netx

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
)

// Words is err as a report records it for people: what happened on the
// network in words ("connection refused", "no answer in time") where Go
// says `Get "https://…": dial tcp 192.0.2.1:443: connect: connection
// refused` or "context canceled". The context the caller wrapped around
// the cause (which step, which server) stays.
func Words(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		inner := Words(ue.Err)
		if ue.Timeout() {
			inner = "no answer in time"
		}
		return strings.Replace(msg, ue.Error(), inner, 1)
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return strings.Replace(msg, oe.Error(), causeWords(oe, oe.Err), 1)
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return strings.Replace(msg, se.Error(), causeWords(se, se.Err), 1)
	}
	msg = strings.Replace(msg, context.DeadlineExceeded.Error(), "no answer in time", 1)
	return strings.Replace(msg, context.Canceled.Error(), "cancelled", 1)
}

// causeWords says what a failed connect, read or write met; inner is what
// err wraps, worded when it is none of these.
func causeWords(err, inner error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return "no answer in time"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "the connection was cut"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "the host cannot be reached"
	}
	return Words(inner)
}
