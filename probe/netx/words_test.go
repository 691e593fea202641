package netx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
)

// What the report records for a failed lookup or connection is in words,
// not Go's url, net and context texts (issue 12).
func TestWords(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 443},
		Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	timedOut := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&url.Error{Op: "Get", URL: "https://autoconfig.example.test/mail/config-v1.1.xml", Err: refused}, "connection refused"},
		{&url.Error{Op: "Get", URL: "https://x.test/", Err: context.Canceled}, "cancelled"},
		{fmt.Errorf("greeting on imap.example.test:993: %w", timedOut), "greeting on imap.example.test:993: no answer in time"},
		{fmt.Errorf("step: %w", context.DeadlineExceeded), "step: no answer in time"},
		{fmt.Errorf("%w: %q", ErrNoAddress, "mail.example.test"), `the host has no address in DNS: "mail.example.test"`},
		{&url.Error{Op: "Get", URL: "https://x.test/", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}, "connection refused"},
		{errors.New("plain words stay"), "plain words stay"},
	} {
		if got := Words(tc.err); got != tc.want {
			t.Errorf("Words(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
