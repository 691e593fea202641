package discover

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mailsetup/mailsetup/probe/netx"
)

// FuzzOrderSRV checks RFC 2782 selection on arbitrary record sets: the
// result is a permutation of the usable records, ordered by priority.
func FuzzOrderSRV(f *testing.F) {
	f.Add([]byte{0, 1, 0, 3, 10, 0, 0, 0}, uint64(1))
	f.Add([]byte{0, 0, 0, 0, 0, 0}, uint64(2))
	f.Add([]byte{255, 255, 255, 255, 0, 255}, uint64(3))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		var recs []netx.SRV
		for i := 0; i+2 < len(data) && len(recs) < netx.MaxRecords; i += 3 {
			target := []string{".", "", "imap.a.test", "mail.a.test"}[data[i+2]%4]
			recs = append(recs, netx.SRV{Target: target, Port: uint16(data[i+2]) * 7, Priority: uint16(data[i]), Weight: uint16(data[i+1]) * 257})
		}
		usable, notOffered := usableSRV(recs)
		if notOffered && len(usable) > 0 {
			t.Fatal("not offered, yet usable records")
		}
		got := orderSRV(usable, rand.New(rand.NewPCG(seed, seed)))
		if len(got) != len(usable) {
			t.Fatalf("%d records in, %d out", len(usable), len(got))
		}
		for i := 1; i < len(got); i++ {
			if got[i].Priority < got[i-1].Priority {
				t.Fatalf("priority %d after %d", got[i].Priority, got[i-1].Priority)
			}
		}
		key := func(a, b netx.SRV) int {
			if c := int(a.Priority) - int(b.Priority); c != 0 {
				return c
			}
			if c := int(a.Weight) - int(b.Weight); c != 0 {
				return c
			}
			if c := int(a.Port) - int(b.Port); c != 0 {
				return c
			}
			switch {
			case a.Target < b.Target:
				return -1
			case a.Target > b.Target:
				return 1
			}
			return 0
		}
		in, out := slices.Clone(usable), slices.Clone(got)
		slices.SortFunc(in, key)
		slices.SortFunc(out, key)
		if !slices.Equal(in, out) {
			t.Fatalf("not a permutation: %v -> %v", usable, got)
		}
	})
}
