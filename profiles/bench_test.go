package profiles

import (
	"io"
	"testing"
)

// The HTTP server renders the Apple profile and the Android QR code per
// request; these say what one costs.
func BenchmarkWriters(b *testing.B) {
	acct := testCases[0].account(b)
	_, leafPEM, keyPEM := testPKI(b)
	signer, err := NewSigner(leafPEM, keyPEM, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, bm := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{"ThunderbirdISP", func(w io.Writer) error { return ThunderbirdISP(w, acct) }},
		{"ThunderbirdUserJS", func(w io.Writer) error { return ThunderbirdUserJS(w, acct) }},
		{"OutlookAutodiscover", func(w io.Writer) error { return OutlookAutodiscover(w, acct) }},
		{"OutlookPRF", func(w io.Writer) error { return OutlookPRF(w, acct) }},
		{"AppleMobileconfig", func(w io.Writer) error { return AppleMobileconfig(w, acct, AppleOptions{}) }},
		{"AppleMobileconfigSigned", func(w io.Writer) error { return AppleMobileconfig(w, acct, AppleOptions{Signer: signer}) }},
		{"AndroidQRPNG", func(w io.Writer) error { return AndroidQRPNG(w, acct) }},
		{"SheetHTML", func(w io.Writer) error { return SheetHTML(w, acct) }},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bm.write(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
