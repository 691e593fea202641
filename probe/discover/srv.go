package discover

import (
	"errors"
	"math/rand/v2"
	"sort"
	"sync"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// srvService is one RFC 6186/8314 service label. Implicit TLS comes first
// within each protocol (RFC 8314 §5.1).
type srvService struct {
	name     string
	protocol autoconfig.Protocol
	security autoconfig.Security
	port     int // the standard port, for guessing
}

var srvServices = []srvService{
	{"_imaps._tcp", autoconfig.IMAP, autoconfig.SecurityTLS, 993},
	{"_imap._tcp", autoconfig.IMAP, autoconfig.SecuritySTARTTLS, 143},
	{"_pop3s._tcp", autoconfig.POP3, autoconfig.SecurityTLS, 995},
	{"_pop3._tcp", autoconfig.POP3, autoconfig.SecuritySTARTTLS, 110},
	{"_submissions._tcp", autoconfig.SMTP, autoconfig.SecurityTLS, 465},
	{"_submission._tcp", autoconfig.SMTP, autoconfig.SecuritySTARTTLS, 587},
}

// errNotOffered is the note on an SRV lookup whose only answer is ".".
var errNotOffered = errors.New(`target "." : the domain says this service is not offered`)

// srv asks every service label at once.
func (r *run) srv() {
	var wg sync.WaitGroup
	for i, svc := range srvServices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.srvService(i, svc)
		}()
	}
	wg.Wait()
}

func (r *run) srvService(index int, svc srvService) {
	name := svc.name + "." + r.addr.Domain
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
		r.notOffered[svc.name] = true
		r.mu.Unlock()
		lk.end(StatusNone, errNotOffered)
		return
	}
	if len(usable) == 0 {
		lk.end(StatusNone, nil)
		return
	}
	lk.end(StatusFound, nil)
	trust := TrustDomainDNS
	if meta.Authenticated {
		trust = TrustDNSSEC
	}
	for i, rec := range r.orderSRV(usable) {
		r.add(autoconfig.Server{
			Protocol: svc.protocol,
			Hostname: rec.Target,
			Port:     int(rec.Port),
			Security: svc.security,
		}, Source{Method: MethodSRV, Target: name, Trust: trust}, index*1000+i)
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
