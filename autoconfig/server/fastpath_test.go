package server

import (
	"fmt"
	"net/url"
	"testing"
)

// FuzzParseAddressFast checks the fast address path against the full parse.
func FuzzParseAddressFast(f *testing.F) {
	for _, s := range []string{"alice@example.test", "a.b+c@example-mail.test", "ALICE@EXAMPLE.TEST", "jürgen@xn--bcher-kva.test",
		"a b@example.test", "@example.test", "a@@example.test", "\"x\"@example.test", "a@example.test.", " a@example.test"} {
		f.Add(s)
	}
	cfg, err := LoadConfig("testdata/serve.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast, errFast := cfg.parseAddress(s)
		full, errFull := parseAddress(s)
		if (errFast == nil) != (errFull == nil) || fmt.Sprint(fast) != fmt.Sprint(full) || fast.Domain != full.Domain {
			t.Fatalf("%q: fast %+v %v, full %+v %v", s, fast, errFast, full, errFull)
		}
	})
}

// FuzzQueryValue checks queryValue against url.Values.Get.
func FuzzQueryValue(f *testing.F) {
	for _, s := range []string{"emailaddress=a%40b.test", "x=1&emailaddress=a&emailaddress=b", "email%61ddress=z", "emailaddress=%zz&emailaddress=ok",
		"a;b=1&emailaddress=c", "emailaddress", "emailaddress=a+b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw)
		if got, want := queryValue(raw, "emailaddress"), q.Get("emailaddress"); got != want {
			t.Fatalf("%q: %q, url.Values.Get %q", raw, got, want)
		}
	})
}
