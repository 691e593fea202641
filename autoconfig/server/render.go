package server

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Answers that depend on the address (an Apple profile, the Android QR code
// and page) cost from tens of microseconds to milliseconds to render (a
// 512-pixel QR PNG: about 6 ms of CPU and 1.5 MB of garbage), so a server
// that rendered them per request could be taken down by a few clients
// repeating one address. renderCache keeps each rendered answer for the
// configuration it was rendered from, at most maxRenderCacheBytes of them,
// the least recently used going first; renders of one key are shared by
// every request waiting for it, and at most maxConcurrentRenders run at
// once, so a flood of distinct addresses costs bounded CPU and memory and
// waits (or is told to come back) instead.
const (
	maxRenderCacheBytes  = 8 << 20
	maxConcurrentRenders = 2
	// maxRenderWait is how long a request waits for a render slot before
	// it is answered 503 with Retry-After.
	maxRenderWait = 2 * time.Second
)

// errRenderBusy is returned when no render slot frees up in maxRenderWait.
var errRenderBusy = errors.New("server: too many answers being rendered")

// renderKind tells apart the answers cached for one address.
type renderKind uint8

const (
	renderMobileconfig renderKind = iota
	renderAndroidQR
	renderAndroidPage
	renderOutlookPRF
	renderSheet
	renderPageForm
	renderPageBadAddress
	renderPageUnknown
	renderPageAddress
)

type renderKey struct {
	kind renderKind
	// variant is what else the answer depends on (the page's language).
	variant string
	addr    string // the address's canonical form (autoconfig.Address.String)
}

type renderEntry struct {
	key  renderKey
	data []byte
}

// renderCall is one render in progress; done closes when data/err are set.
type renderCall struct {
	done chan struct{}
	data []byte
	err  error
}

type renderCache struct {
	mu       sync.Mutex
	maxBytes int
	size     int
	lru      list.List // of *renderEntry, most recent first
	items    map[renderKey]*list.Element
	inflight map[renderKey]*renderCall
	slots    chan struct{}
	wait     time.Duration
	rendered *atomic.Uint64 // renders run, for /metrics
}

func newRenderCache(maxBytes, concurrent int, wait time.Duration, rendered *atomic.Uint64) *renderCache {
	return &renderCache{
		rendered: rendered,
		maxBytes: maxBytes,
		items:    map[renderKey]*list.Element{},
		inflight: map[renderKey]*renderCall{},
		slots:    make(chan struct{}, concurrent),
		wait:     wait,
	}
}

// get returns the cached answer for key, or renders it. Waiting stops when
// ctx ends (the client went away) or after c.wait for a slot; a render that
// fails is not cached, so its error is returned to every request sharing it.
func (c *renderCache) get(ctx context.Context, key renderKey, render func() ([]byte, error)) ([]byte, error) {
	for {
		c.mu.Lock()
		if el, ok := c.items[key]; ok {
			c.lru.MoveToFront(el)
			c.mu.Unlock()
			return el.Value.(*renderEntry).data, nil
		}
		if call, ok := c.inflight[key]; ok {
			c.mu.Unlock()
			select {
			case <-call.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if errors.Is(call.err, errLeaderGone) {
				continue // the request rendering it went away: try again
			}
			return call.data, call.err
		}
		call := &renderCall{done: make(chan struct{})}
		c.inflight[key] = call
		c.mu.Unlock()

		call.data, call.err = c.renderInSlot(ctx, render)
		c.mu.Lock()
		delete(c.inflight, key)
		if call.err == nil {
			c.add(key, call.data)
		}
		c.mu.Unlock()
		close(call.done)
		if errors.Is(call.err, errLeaderGone) {
			return nil, ctx.Err()
		}
		return call.data, call.err
	}
}

// errLeaderGone marks a render abandoned because its own request ended
// before a slot was free; requests waiting on it start their own.
var errLeaderGone = errors.New("server: the rendering request went away")

func (c *renderCache) renderInSlot(ctx context.Context, render func() ([]byte, error)) ([]byte, error) {
	timer := time.NewTimer(c.wait)
	defer timer.Stop()
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, errLeaderGone
	case <-timer.C:
		return nil, errRenderBusy
	}
	defer func() { <-c.slots }()
	if ctx.Err() != nil {
		return nil, errLeaderGone
	}
	c.rendered.Add(1)
	return render()
}

// add stores data under key (c.mu held), dropping the least recently used
// entries to stay within maxBytes. An answer larger than the whole cache is
// served but not kept.
func (c *renderCache) add(key renderKey, data []byte) {
	cost := len(data) + len(key.addr) + len(key.variant) + 64
	if cost > c.maxBytes {
		return
	}
	c.items[key] = c.lru.PushFront(&renderEntry{key: key, data: data})
	c.size += cost
	for c.size > c.maxBytes {
		el := c.lru.Back()
		e := el.Value.(*renderEntry)
		c.lru.Remove(el)
		delete(c.items, e.key)
		c.size -= len(e.data) + len(e.key.addr) + len(e.key.variant) + 64
	}
}

// len is the number of answers held (for tests).
func (c *renderCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
