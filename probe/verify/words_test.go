package verify

import (
	"strings"
	"testing"
)

// The sentinels' texts reach people (the report's error fields); they
// carry no package prefix (issue 12).
func TestSentinelsAreWords(t *testing.T) {
	for _, err := range []error{ErrBadServer, ErrNoAddress, ErrProtocol, ErrTooLong, ErrRefused, ErrSTARTTLS, ErrTLS, ErrTimeout, ErrUnsafe} {
		if strings.Contains(err.Error(), "verify") {
			t.Errorf("%q names the package", err)
		}
	}
}
