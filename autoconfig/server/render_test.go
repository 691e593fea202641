package server

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRenderCacheBounded: the cache never holds more than its byte budget,
// and drops the least recently used answer first.
func TestRenderCacheBounded(t *testing.T) {
	var n atomic.Uint64
	c := newRenderCache(10_000, 2, time.Minute, &n)
	ctx := context.Background()
	page := make([]byte, 900)
	get := func(i int) {
		t.Helper()
		if _, err := c.get(ctx, renderKey{addr: "a" + strconv.Itoa(i) + "@example.test"}, func() ([]byte, error) { return page, nil }); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		get(i)
		get(0) // kept in use: never the least recently used
		if c.size > c.maxBytes {
			t.Fatalf("cache holds %d bytes, more than its %d", c.size, c.maxBytes)
		}
	}
	if c.len() >= 100 || c.len() < 5 {
		t.Errorf("%d answers held", c.len())
	}
	before := n.Load()
	get(0)
	if n.Load() != before {
		t.Error("the answer in use was dropped")
	}
}

// TestRenderCacheConcurrency: at most the configured number of renders run
// at once; a request that finds every slot busy gets errRenderBusy after the
// wait, a request whose client has gone stops waiting at once and renders
// nothing, and requests for one key share one render.
func TestRenderCacheConcurrency(t *testing.T) {
	var n atomic.Uint64
	c := newRenderCache(1<<20, 1, 50*time.Millisecond, &n)
	release := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	results := make([]error, 5)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, results[i] = c.get(context.Background(), renderKey{addr: "slow@example.test"}, func() ([]byte, error) {
				close(started) // a second call would panic: one render only
				<-release
				return []byte("x"), nil
			})
		}()
	}
	<-started
	_, err := c.get(context.Background(), renderKey{addr: "other@example.test"}, func() ([]byte, error) {
		t.Error("rendered while the only slot was taken")
		return nil, nil
	})
	if !errors.Is(err, errRenderBusy) {
		t.Errorf("with every slot busy: %v, want errRenderBusy", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.get(ctx, renderKey{addr: "gone@example.test"}, func() ([]byte, error) {
		t.Error("rendered for a client that has gone")
		return nil, nil
	}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled request: %v, want context.Canceled", err)
	}
	close(release)
	wg.Wait()
	for i, err := range results {
		if err != nil {
			t.Errorf("request %d sharing the render: %v", i, err)
		}
	}
	if n.Load() != 1 {
		t.Errorf("%d renders, want 1", n.Load())
	}
}
