package netx

import (
	"context"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// MaxTXTSize bounds the text of one TXT answer (all its records together):
// an RFC 6764 path= record is a few dozen bytes.
const MaxTXTSize = 4 << 10

// TXTResolver is a Resolver that also answers TXT questions, for the
// RFC 6764 §4 path= records of calendar and contacts services. It is a
// separate interface so that resolvers written for mail alone still serve.
type TXTResolver interface {
	// LookupTXT returns each record's strings joined (RFC 7208 §3.3 style).
	LookupTXT(ctx context.Context, name string) ([]string, Meta, error)
}

// LookupTXT asks r for name's TXT records; a resolver that cannot answer
// TXT questions gives the empty answer ("no records").
func LookupTXT(ctx context.Context, r Resolver, name string) ([]string, Meta, error) {
	if t, ok := r.(TXTResolver); ok {
		return t.LookupTXT(ctx, name)
	}
	return nil, Meta{}, nil
}

func (r *dnsResolver) LookupTXT(ctx context.Context, name string) ([]string, Meta, error) {
	rrs, meta, err := r.lookup(ctx, name, dns.TypeTXT)
	if err != nil {
		return nil, meta, err
	}
	out := make([]string, 0, len(rrs))
	size := 0
	for _, rr := range rrs {
		s := strings.Join(rr.(*dns.TXT).Txt, "")
		if size += len(s); size > MaxTXTSize {
			return nil, meta, fmt.Errorf("%w: TXT for %q holds more than %d bytes", ErrHostileAnswer, name, MaxTXTSize)
		}
		out = append(out, s)
	}
	return out, meta, nil
}

func (o osResolver) LookupTXT(ctx context.Context, name string) ([]string, Meta, error) {
	recs, err := o.r.LookupTXT(ctx, name)
	if notFound(err) {
		return nil, Meta{}, nil
	}
	if err != nil {
		return nil, Meta{}, err
	}
	size := 0
	for _, s := range recs {
		if size += len(s); size > MaxTXTSize || len(recs) > MaxRecords {
			return nil, Meta{}, fmt.Errorf("TXT %s: %w: more than %d bytes", name, ErrHostileAnswer, MaxTXTSize)
		}
	}
	return recs, Meta{}, nil
}

// LookupTXT answers from m.TXT; Fail keys are "TXT name".
func (m *MockResolver) LookupTXT(ctx context.Context, name string) ([]string, Meta, error) {
	meta, err := m.meta("TXT", name)
	if err != nil {
		return nil, Meta{}, err
	}
	return m.TXT[mockKey(name)], meta, ctx.Err()
}
