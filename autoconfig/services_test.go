package autoconfig

import "testing"

func TestServices(t *testing.T) {
	var names []string
	for _, s := range Services() {
		names = append(names, s.SRVOwner("example.test"))
		if got := DefaultPort(s.Protocol, s.Security); got != s.Port {
			t.Errorf("DefaultPort(%s, %s) = %d, want %d", s.Protocol, s.Security, got, s.Port)
		}
		if sec, ok := StandardSecurity(s.Port); !ok || sec != s.Security {
			t.Errorf("StandardSecurity(%d) = %s, %v", s.Port, sec, ok)
		}
	}
	want := []string{"_imaps._tcp.example.test", "_imap._tcp.example.test", "_pop3s._tcp.example.test",
		"_pop3._tcp.example.test", "_submissions._tcp.example.test", "_submission._tcp.example.test"}
	if len(names) != len(want) {
		t.Fatalf("services %v", names)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Errorf("service %d is %s, want %s", i, names[i], want[i])
		}
	}
	Services()[0].Port = 1 // the caller's own copy
	if Services()[0].Port != 993 {
		t.Error("Services shares its table")
	}
	for port, want := range map[int]Security{25: SecuritySTARTTLS, 587: SecuritySTARTTLS, 465: SecurityTLS, 2525: ""} {
		if got, _ := StandardSecurity(port); got != want {
			t.Errorf("StandardSecurity(%d) = %q, want %q", port, got, want)
		}
	}
	if got := DefaultPort(SMTP, SecurityPlain); got != 587 {
		t.Errorf("DefaultPort(smtp, plain) = %d", got)
	}
	if _, ok := ServiceFor(Protocol("jmap"), SecurityTLS); ok {
		t.Error("a service for jmap")
	}
}
