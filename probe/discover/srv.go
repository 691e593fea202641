package discover

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// srvLabel is the service's SRV owner name under the domain:
// "_imaps._tcp" (RFC 6186 §3). The table itself is the model's
// (autoconfig.Services), shared with dns-records, lint and the server.
func srvLabel(svc autoconfig.Service) string { return svc.SRVName + "._tcp" }

// errNotOffered is the note on an SRV lookup whose only answer is ".".
var errNotOffered = errors.New(`target "." : the domain says this service is not offered`)

// srv asks every service label at once.
func (r *run) srv() {
	var wg sync.WaitGroup
	for i, svc := range autoconfig.Services() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.srvService(i, svc)
		}()
	}
	wg.Wait()
}

func (r *run) srvService(index int, svc autoconfig.Service) {
	name := svc.SRVOwner(r.addr.Domain)
	lk := r.begin(MethodSRV, name, sentDomainOnly)
	ctx, cancel := r.attemptCtx()
	defer cancel()
	recs, meta, err := r.opts.Env.Resolver.LookupSRV(ctx, name)
	lk.dns(meta)
	if err != nil {
		lk.end("", err)
		return
	}
	usable, notOffered := usableSRV(recs)
	if notOffered {
		r.mu.Lock()
		r.notOffered[srvLabel(svc)] = true
		r.mu.Unlock()
		lk.end(StatusNone, errNotOffered)
		return
	}
	if len(usable) == 0 {
		lk.end(StatusNone, nil)
		return
	}
	// A target is a host name from outside: the model's one check decides
	// (issue 13). A bad one is dropped, and the lookup says why, so that
	// it reaches no connection and no file.
	var servers []autoconfig.Server
	var order []int
	var dropped []error
	for i, rec := range r.orderSRV(usable) {
		host, err := autoconfig.ParseHostname(rec.Target)
		if err != nil {
			dropped = append(dropped, fmt.Errorf("target dropped: %w", err))
			continue
		}
		servers = append(servers, autoconfig.Server{Protocol: svc.Protocol, Hostname: host, Port: int(rec.Port), Security: svc.Security})
		order = append(order, index*1000+i)
	}
	if len(servers) == 0 {
		lk.end(StatusError, errors.Join(dropped...))
		return
	}
	lk.end(StatusFound, errors.Join(dropped...))
	trust := TrustDomainDNS
	if meta.Authenticated {
		trust = TrustDNSSEC
	}
	for i, s := range servers {
		r.add(s, Source{Method: MethodSRV, Target: name, Trust: trust}, order[i])
	}
}

// usableSRV drops records that count as absent (port 0 or an empty
// target) and reports whether the answer says "decidedly not offered": a
// "." target and nothing usable beside it (RFC 2782, RFC 6186 §3.4).
func usableSRV(recs []netx.SRV) (usable []netx.SRV, notOffered bool) {
	dot := false
	for _, rec := range recs {
		switch {
		case rec.Target == ".":
			dot = true
		case rec.Target == "" || rec.Port == 0:
		default:
			usable = append(usable, rec)
		}
	}
	return usable, dot && len(usable) == 0
}

// orderSRV is RFC 2782's selection: lowest priority first; within one
// priority a weighted random order, zero weights placed first so that they
// are chosen rarely but not never.
func (r *run) orderSRV(recs []netx.SRV) []netx.SRV {
	r.randMu.Lock()
	defer r.randMu.Unlock()
	return orderSRV(recs, r.opts.Rand)
}

func orderSRV(recs []netx.SRV, rnd *rand.Rand) []netx.SRV {
	sorted := append([]netx.SRV(nil), recs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Priority != sorted[j].Priority {
			return sorted[i].Priority < sorted[j].Priority
		}
		return sorted[i].Weight == 0 && sorted[j].Weight != 0
	})
	out := make([]netx.SRV, 0, len(sorted))
	for start := 0; start < len(sorted); {
		end := start
		for end < len(sorted) && sorted[end].Priority == sorted[start].Priority {
			end++
		}
		group := sorted[start:end]
		for len(group) > 0 {
			total := 0
			for _, rec := range group {
				total += int(rec.Weight)
			}
			pick := rnd.IntN(total + 1)
			chosen, running := 0, 0
			for i, rec := range group {
				running += int(rec.Weight)
				if running >= pick {
					chosen = i
					break
				}
			}
			out = append(out, group[chosen])
			group = append(group[:chosen:chosen], group[chosen+1:]...)
		}
		start = end
	}
	return out
}
