//go:build unix

package server

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/acme/autocert"
)

// autocert serialises certificate orders within one process only, so two
// replicas that share tls.acme.cache_dir and start together would both order
// the same certificate (and spend the CA's duplicate-certificate allowance).
// lockingCache makes the cache itself the lock: a replica that misses a
// certificate takes an exclusive flock(2) on KEY.lock in the cache directory
// before reporting the miss, and holds it until it has stored the new
// certificate (Put) or holdLimit has passed (the order failed). A replica
// that finds the lock taken waits, then reads the certificate the other one
// stored. flock works across containers sharing a local or NFSv4 volume.
type lockingCache struct {
	autocert.DirCache
	dir       string
	holdLimit time.Duration
	poll      time.Duration

	mu   sync.Mutex
	held map[string]*heldLock
}

type heldLock struct {
	f     *os.File
	timer *time.Timer
}

func newLockingCache(dir string) *lockingCache {
	return &lockingCache{DirCache: autocert.DirCache(dir), dir: dir, holdLimit: 5 * time.Minute, poll: 250 * time.Millisecond, held: map[string]*heldLock{}}
}

// isCertificateKey tells certificate entries from the account key and
// challenge tokens, which autocert writes without ordering anything.
func isCertificateKey(key string) bool {
	return !strings.HasSuffix(key, "+token") && !strings.HasSuffix(key, "+http-01") && !strings.HasSuffix(key, "+key") && key != "acme_account+key"
}

func (c *lockingCache) Get(ctx context.Context, key string) ([]byte, error) {
	data, err := c.DirCache.Get(ctx, key)
	if !errors.Is(err, autocert.ErrCacheMiss) || !isCertificateKey(key) {
		return data, err
	}
	c.mu.Lock()
	_, mine := c.held[key]
	c.mu.Unlock()
	if mine {
		return nil, autocert.ErrCacheMiss // this process is ordering it
	}
	f, err := c.lock(ctx, key)
	if err != nil {
		return nil, err
	}
	// Whoever held the lock may have stored the certificate meanwhile.
	if data, err := c.DirCache.Get(ctx, key); !errors.Is(err, autocert.ErrCacheMiss) {
		unlockFile(f)
		return data, err
	}
	c.mu.Lock()
	c.held[key] = &heldLock{f: f, timer: time.AfterFunc(c.holdLimit, func() { c.release(key) })}
	c.mu.Unlock()
	return nil, autocert.ErrCacheMiss
}

func (c *lockingCache) Put(ctx context.Context, key string, data []byte) error {
	err := c.DirCache.Put(ctx, key, data)
	c.release(key)
	return err
}

func (c *lockingCache) release(key string) {
	c.mu.Lock()
	h, ok := c.held[key]
	delete(c.held, key)
	c.mu.Unlock()
	if ok {
		h.timer.Stop()
		unlockFile(h.f)
	}
}

// lock takes KEY.lock exclusively, polling so that ctx can end the wait.
func (c *lockingCache) lock(ctx context.Context, key string) (*os.File, error) {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(c.dir, key+".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(c.poll):
		}
	}
}

func unlockFile(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	f.Close()
}

func acmeCache(dir string) autocert.Cache { return newLockingCache(dir) }
