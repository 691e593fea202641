package discover

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// guessConcurrency bounds the guessing connections open at once.
const guessConcurrency = 8

// guessHosts are the usual names, each with the standard ports of the
// protocols it is named for (the bare domain and mail. get all of them), in
// the order Thunderbird's GuessConfig tries them. Plain-text ports are
// guessed as STARTTLS: a guess never proposes an unprotected connection.
var guessHosts = []struct {
	prefix string
	ports  []int
}{
	{"imap.", []int{993, 143}},
	{"mail.", []int{993, 143, 995, 110, 465, 587}},
	{"pop.", []int{995, 110}},
	{"pop3.", []int{995, 110}},
	{"smtp.", []int{465, 587}},
	{"", []int{993, 143, 995, 110, 465, 587}},
}

// guessTarget is one host:port to try.
type guessTarget struct {
	port  int
	svc   autoconfig.Service
	order int
}

// guess waits for the SRV answers, then until the other published sources
// have finished or their head start is over, then tries the usual host names on the standard ports of
// every service that nothing published and no SRV "." ruled out. A
// candidate is a port that accepts a TCP connection; what speaks there,
// and how securely, is for verification to prove.
func (r *run) guess(srvDone, publishedDone <-chan struct{}) {
	d := r.addr.Domain
	// SRV answers come first whatever the head start: a "." target must
	// stop guessing for its service before any connection is made.
	select {
	case <-srvDone:
	case <-r.ctx.Done():
		r.note(MethodGuess, d, StatusCancelled, "cancelled before guessing began")
		return
	}
	if delay := r.opts.GuessDelay; delay > 0 {
		timer := time.NewTimer(delay)
		defer timer.Stop()
		select {
		case <-publishedDone:
		case <-timer.C:
		case <-r.ctx.Done():
			r.note(MethodGuess, d, StatusCancelled, "cancelled before guessing began")
			return
		}
	}
	if r.ctx.Err() != nil {
		r.note(MethodGuess, d, StatusCancelled, "cancelled before guessing began")
		return
	}
	skipIncoming := r.hasCandidates(autoconfig.IMAP, autoconfig.POP3)
	skipOutgoing := r.hasCandidates(autoconfig.SMTP)
	if skipIncoming {
		r.skip(MethodGuess, d, "published settings name incoming servers: no guessing for IMAP and POP3")
	}
	if skipOutgoing {
		r.skip(MethodGuess, d, "published settings name outgoing servers: no guessing for SMTP")
	}
	byPort := map[int]autoconfig.Service{}
	r.mu.Lock()
	for _, svc := range autoconfig.Services() {
		if r.notOffered[srvLabel(svc)] {
			r.lookups = append(r.lookups, Lookup{Method: MethodGuess, Target: svc.SRVOwner(d), Status: StatusSkipped,
				Error: fmt.Sprintf(`SRV target "." says %s is not offered: port %d is not guessed`, srvLabel(svc), svc.Port)})
			continue
		}
		if (svc.Protocol == autoconfig.SMTP && skipOutgoing) || (svc.Protocol != autoconfig.SMTP && skipIncoming) {
			continue
		}
		byPort[svc.Port] = svc
	}
	r.mu.Unlock()

	sem := make(chan struct{}, guessConcurrency)
	var wg sync.WaitGroup
	for hi, h := range guessHosts {
		var targets []guessTarget
		for _, port := range h.ports {
			if svc, ok := byPort[port]; ok {
				targets = append(targets, guessTarget{port: port, svc: svc, order: svc.Security.Preference()*100 + hi})
			}
		}
		if len(targets) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.guessHost(sem, h.prefix+d, targets)
		}()
	}
	wg.Wait()
}

// guessHost resolves host once and tries each of its ports.
func (r *run) guessHost(sem chan struct{}, host string, targets []guessTarget) {
	select {
	case sem <- struct{}{}:
	case <-r.ctx.Done():
		r.note(MethodGuess, host, StatusCancelled, "cancelled while waiting for a turn")
		return
	}
	lk := r.begin(MethodGuess, host, sentDomainOnly)
	ctx, cancel := r.attemptCtx()
	addrs, meta, err := r.opts.Env.Resolver.LookupAddrs(ctx, host)
	cancel()
	lk.dns(meta)
	<-sem
	switch {
	case err != nil:
		lk.end("", err)
		return
	case len(addrs) == 0:
		lk.end(StatusNone, fmt.Errorf("%w: %q", netx.ErrNoAddress, host))
		return
	}
	lk.end(StatusFound, nil)
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.guessPort(sem, host, addrs, t)
		}()
	}
	wg.Wait()
}

func (r *run) guessPort(sem chan struct{}, host string, addrs []netip.Addr, t guessTarget) {
	target := fmt.Sprintf("%s:%d", host, t.port)
	select {
	case sem <- struct{}{}:
	case <-r.ctx.Done():
		r.note(MethodGuess, target, StatusCancelled, "cancelled while waiting for a turn")
		return
	}
	defer func() { <-sem }()
	lk := r.begin(MethodGuess, target, sentConnectOnly)
	ctx, cancel := r.attemptCtx()
	defer cancel()
	conn, _, err := netx.DialAddrs(ctx, r.opts.Env.Dialer, "tcp", addrs, uint16(t.port))
	if err != nil {
		if r.ctx.Err() != nil {
			lk.end(StatusCancelled, err)
		} else {
			// A refused or silent port is the usual answer to a guess.
			lk.end(StatusNone, err)
		}
		return
	}
	conn.Close()
	lk.end(StatusFound, nil)
	r.add(autoconfig.Server{Protocol: t.svc.Protocol, Hostname: host, Port: t.port, Security: t.svc.Security},
		Source{Method: MethodGuess, Target: target, Trust: TrustGuess}, t.order)
}
