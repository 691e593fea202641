//go:build unix

package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/acme/autocert"
)

// TestACMEIssuanceSerialised stands in for two replicas sharing the ACME
// cache: the first to miss a certificate holds the lock while it orders;
// the second waits and then reads what the first stored, ordering nothing.
// A replica whose order fails gives the lock up after holdLimit.
func TestACMEIssuanceSerialised(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	first, second := newLockingCache(dir), newLockingCache(dir)
	second.poll = 5 * time.Millisecond

	if _, err := first.Get(ctx, "example.test"); !errors.Is(err, autocert.ErrCacheMiss) {
		t.Fatalf("first replica: %v, want a miss", err)
	}
	got := make(chan error, 1)
	var data []byte
	go func() {
		var err error
		data, err = second.Get(ctx, "example.test")
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("the second replica did not wait for the first one's order: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := first.Put(ctx, "example.test", []byte("certificate")); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil || string(data) != "certificate" {
		t.Fatalf("second replica: %q, %v; want the first one's certificate", data, err)
	}

	// Tokens and the account key are not locked.
	if _, err := second.Get(ctx, "abc+http-01"); !errors.Is(err, autocert.ErrCacheMiss) {
		t.Fatal(err)
	}

	// A failed order (no Put) releases the lock after holdLimit.
	failing := newLockingCache(dir)
	failing.holdLimit = 50 * time.Millisecond
	if _, err := failing.Get(ctx, "other.test"); !errors.Is(err, autocert.ErrCacheMiss) {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := second.Get(wctx, "other.test"); !errors.Is(err, autocert.ErrCacheMiss) {
		t.Fatalf("after a failed order: %v, want the lock and a miss", err)
	}
	second.release("other.test")

	// Waiting ends with the request's context.
	cctx, cancel2 := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel2()
	if _, err := first.Get(ctx, "third.test"); !errors.Is(err, autocert.ErrCacheMiss) {
		t.Fatal(err)
	}
	if _, err := second.Get(cctx, "third.test"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting past the context: %v", err)
	}
	first.release("third.test")
}
