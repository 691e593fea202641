// Package sandboxtest starts a sandbox world for one test, the way
// net/http/httptest starts a server: it fails the test if the world cannot
// start and closes it when the test ends.
package sandboxtest

import (
	"testing"

	"github.com/mailsetup/mailsetup/internal/sandbox"
)

// Start starts a world with opts and closes it with t.Cleanup.
func Start(t testing.TB, opts sandbox.Options) *sandbox.World {
	t.Helper()
	w, err := sandbox.Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}
