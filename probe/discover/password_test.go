package discover

import (
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// countingBudget is a LoginBudget that allows max refusals.
type countingBudget struct {
	mu               sync.Mutex
	max              int
	refused, pending int
	reserved         int
}

func (b *countingBudget) Reserve() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.refused+b.pending >= b.max {
		return false
	}
	b.pending++
	b.reserved++
	return true
}

func (b *countingBudget) Settle(refused bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending--
	if refused {
		b.refused++
	}
}

// passwordsSeen counts the requests that carried credentials.
func passwordsSeen(w *testWorld) int {
	n := 0
	for _, r := range w.seen() {
		if r.Auth != "" {
			n++
		}
	}
	return n
}

// --autodiscover-auth used to send the password about 36 times through an
// in-domain redirect loop, and to every endpoint that answered 401 (issue
// 11). Now at most MaxAutodiscoverPasswords requests carry it, and a 401
// counts as a refusal in the budget the prober shares with its logins.
func TestAutodiscoverPasswordIsBounded(t *testing.T) {
	t.Run("redirect loop inside the domain", func(t *testing.T) {
		w := newTestWorld(t)
		// Every hop names a new URL inside a.test, so no (address, URL)
		// pair repeats before the hop limit.
		for _, host := range []string{"a.test", "autodiscover.a.test"} {
			w.handle("https://"+host+"/autodiscover/autodiscover.xml", autodiscoverHandler(func(string) *autoconfig.AutodiscoverResponse {
				return autoconfig.NewAutodiscoverRedirectURL("https://hop0.a.test/autodiscover/autodiscover.xml")
			}))
		}
		for i := range 40 {
			w.handle(fmt.Sprintf("https://hop%d.a.test/autodiscover/autodiscover.xml", i), autodiscoverHandler(func(string) *autoconfig.AutodiscoverResponse {
				return autoconfig.NewAutodiscoverRedirectURL(fmt.Sprintf("https://hop%d.a.test/autodiscover/autodiscover.xml", i+1))
			}))
		}
		opts := w.options()
		opts.AutodiscoverPassword = []byte("secret")
		opts.GuessDelay = -1
		runWorld(t, w, opts, alice)
		if n := passwordsSeen(w); n == 0 || n > MaxAutodiscoverPasswords {
			t.Errorf("the password went out %d times; want 1 to %d", n, MaxAutodiscoverPasswords)
		}
	})

	t.Run("every endpoint answers 401", func(t *testing.T) {
		w := newTestWorld(t)
		for _, host := range []string{"a.test", "autodiscover.a.test"} {
			w.handle("https://"+host+"/autodiscover/autodiscover.xml", func(rw http.ResponseWriter, r *http.Request) {
				rw.Header().Set("WWW-Authenticate", "Basic")
				http.Error(rw, "login", http.StatusUnauthorized)
			})
		}
		opts := w.options()
		opts.AutodiscoverPassword = []byte("secret")
		opts.GuessDelay = -1
		// The prober had one refusal left in the incoming direction.
		budget := &countingBudget{max: 1}
		opts.AutodiscoverLogins = budget
		runWorld(t, w, opts, alice)
		if n := passwordsSeen(w); n != 1 || budget.refused != 1 || budget.pending != 0 {
			t.Errorf("the password went out %d times, %d refusals counted, %d pending; want 1, 1, 0", n, budget.refused, budget.pending)
		}
	})
}

// An Autodiscover chain that began at a public host never follows a
// redirect into loopback or private space (issue 11).
func TestAutodiscoverNeverRedirectsIntoPrivateSpace(t *testing.T) {
	w := newTestWorld(t)
	w.mu.Lock()
	w.resolver.Addrs["a.test"] = []netip.Addr{netip.MustParseAddr("192.0.2.1")}
	w.mu.Unlock()
	w.handle("https://a.test/autodiscover/autodiscover.xml", autodiscoverHandler(func(string) *autoconfig.AutodiscoverResponse {
		return autoconfig.NewAutodiscoverRedirectURL("https://inside.a.test/autodiscover/autodiscover.xml")
	}))
	w.handle("https://inside.a.test/autodiscover/autodiscover.xml", autodiscoverHandler(func(string) *autoconfig.AutodiscoverResponse {
		return autoconfig.NewAutodiscoverResponse(provider("a.test", "imap evil.a.test:993 tls"), alice)
	}))
	opts := w.options()
	opts.GuessDelay = -1
	res := runWorld(t, w, opts, alice)
	for _, r := range w.seen() {
		if strings.Contains(r.URL, "inside.a.test") {
			t.Errorf("followed a redirect from a public host into loopback: %+v", r)
		}
	}
	if !slices.ContainsFunc(res.Lookups, func(l Lookup) bool { return strings.Contains(l.Error, "private address space") }) {
		t.Errorf("lookups = %+v; want the refused redirect reported", res.Lookups)
	}
}
