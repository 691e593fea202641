package sandbox

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"sort"
	"sync"
)

// recorder remembers every host:port a test account's password reached.
type recorder struct {
	mu   sync.Mutex
	seen map[string]map[int]bool
}

func newRecorder() *recorder { return &recorder{seen: map[string]map[int]bool{}} }

func (r *recorder) record(host string, port int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[host] == nil {
		r.seen[host] = map[int]bool{}
	}
	r.seen[host][port] = true
}

func (r *recorder) seenBy(host string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen[host]) > 0
}

func (r *recorder) seenAt(host string, port int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[host][port]
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for h, ports := range r.seen {
		for p := range ports {
			out = append(out, fmt.Sprintf("%s:%d", h, p))
		}
	}
	sort.Strings(out)
	return out
}

// tapLineMax bounds the bytes a tap keeps while waiting for a line's end.
const tapLineMax = 8 << 10

// tap watches the bytes a server receives before any TLS (and, harmlessly,
// the ciphertext after it) for a known password, raw or inside a base64
// token (SASL PLAIN and LOGIN). It catches passwords a server library
// refuses before its own code sees them, such as a LOGIN sent without TLS.
type tap struct {
	passwords map[string]bool
	hit       func()
	line      []byte
	fired     bool
}

func (t *tap) feed(p []byte) {
	if t.fired {
		return
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.line = append(t.line, p...)
			if len(t.line) > tapLineMax {
				t.check(t.line)
				// Keep a tail so a password split across the cut is seen.
				t.line = append(t.line[:0], t.line[len(t.line)-256:]...)
			}
			return
		}
		t.line = append(t.line, p[:i]...)
		t.check(t.line)
		t.line = t.line[:0]
		p = p[i+1:]
	}
}

func (t *tap) check(line []byte) {
	if !t.fired && containsPassword(line, t.passwords) {
		t.fired = true
		t.hit()
	}
}

// containsPassword reports whether line holds one of passwords as is or in
// a base64 token.
func containsPassword(line []byte, passwords map[string]bool) bool {
	for pw := range passwords {
		if pw != "" && bytes.Contains(line, []byte(pw)) {
			return true
		}
	}
	for _, tok := range bytes.Fields(line) {
		if len(tok) < 4 {
			continue
		}
		dec, err := base64.StdEncoding.DecodeString(string(tok))
		if err != nil {
			continue
		}
		for pw := range passwords {
			if pw != "" && bytes.Contains(dec, []byte(pw)) {
				return true
			}
		}
	}
	return false
}
