package verify

import (
	"strings"

	"github.com/emersion/go-imap/v2"
)

// Kind says why a server rejected a login, so the user gets the right fix.
type Kind string

const (
	// KindWrongPassword: the username or password is wrong.
	KindWrongPassword Kind = "wrong-password"
	// KindAppPasswordRequired: the account has two-step verification and
	// the provider wants an app-specific password for mail clients.
	KindAppPasswordRequired Kind = "app-password-required"
	// KindWebLoginRequired: the provider blocked the login until the user
	// signs in once in a web browser.
	KindWebLoginRequired Kind = "web-login-required"
	// KindOAuthOnly: the provider accepts OAuth2 sign-in only.
	KindOAuthOnly Kind = "oauth-only"
	// KindUnknown: a rejection we cannot explain; ServerText has the words.
	KindUnknown Kind = "unknown"
)

// phrases maps the wording providers use to a Kind. They are matched, in
// order, in lower-cased server text, before any response code: providers
// put the specific reason in the text of a generic code.
var phrases = []struct {
	phrase string
	kind   Kind
}{
	// Gmail: "534-5.7.9 Application-specific password required" (Google
	// Workspace SMTP error reference, support.google.com/a/answer/3726730)
	// and IMAP "[ALERT] Application-specific password required".
	{"application-specific password", KindAppPasswordRequired},
	// Apple iCloud and Yahoo/AOL help pages say "app-specific password"
	// and "app password".
	{"app-specific password", KindAppPasswordRequired},
	{"app password", KindAppPasswordRequired},
	// Gmail: "534-5.7.14 Please log in with your web browser and then try
	// again" (same reference) and IMAP "[ALERT] Please log in via your web
	// browser", "[WEBALERT url] Web login required".
	{"web browser", KindWebLoginRequired},
	{"web login", KindWebLoginRequired},
	// Microsoft 365: "535 5.7.139 Authentication unsuccessful, basic
	// authentication is disabled" (learn.microsoft.com, "Deprecation of
	// Basic authentication in Exchange Online").
	{"basic authentication is disabled", KindOAuthOnly},
	{"oauth", KindOAuthOnly},
	// Generic wording of servers that send no code.
	{"authentication failed", KindWrongPassword},
	{"invalid credentials", KindWrongPassword},
	{"incorrect password", KindWrongPassword},
	{"invalid password", KindWrongPassword},
	{"password incorrect", KindWrongPassword},
	{"login failed", KindWrongPassword},
}

func classifyText(text string) (Kind, bool) {
	lower := strings.ToLower(text)
	for _, p := range phrases {
		if strings.Contains(lower, p.phrase) {
			return p.kind, true
		}
	}
	return KindUnknown, false
}

// classifyIMAP reads an IMAP NO to LOGIN or AUTHENTICATE. Response codes
// are those of RFC 5530 §3 plus Gmail's WEBALERT.
func classifyIMAP(code imap.ResponseCode, text string) (Kind, string) {
	// Codes that say the password is not the problem come first.
	switch strings.ToUpper(string(code)) {
	case string(imap.ResponseCodeExpired):
		return KindUnknown, "The password has expired: change it on the provider's web site, then try again."
	case string(imap.ResponseCodeUnavailable):
		return KindUnknown, fixTemporary
	case string(imap.ResponseCodeContactAdmin), string(imap.ResponseCodeAuthorizationFailed):
		return KindUnknown, "The account may not log in this way: ask the provider's support, quoting the server's words."
	case string(imap.ResponseCodePrivacyRequired):
		return KindUnknown, "The server wants an encrypted connection for this login: use the TLS or STARTTLS settings."
	}
	if k, ok := classifyText(text); ok {
		return k, fixFor(k)
	}
	switch strings.ToUpper(string(code)) {
	case string(imap.ResponseCodeAuthenticationFailed):
		return KindWrongPassword, fixFor(KindWrongPassword)
	case "WEBALERT":
		return KindWebLoginRequired, fixFor(KindWebLoginRequired)
	}
	return KindUnknown, fixFor(KindUnknown)
}

// classifySMTP reads an SMTP AUTH failure: RFC 4954 §6 codes (535 5.7.8
// bad credentials, 534 5.7.9 mechanism too weak, 454 4.7.0 temporary) and
// Gmail's 534 5.7.14 (web login).
func classifySMTP(code int, enhanced [3]int, text string) (Kind, string) {
	if code/100 == 4 || enhanced[0] == 4 {
		return KindUnknown, fixTemporary
	}
	if k, ok := classifyText(text); ok {
		return k, fixFor(k)
	}
	switch {
	case enhanced == [3]int{5, 7, 8} || (code == 535 && enhanced[0] <= 0):
		return KindWrongPassword, fixFor(KindWrongPassword)
	case enhanced == [3]int{5, 7, 14}:
		return KindWebLoginRequired, fixFor(KindWebLoginRequired)
	}
	return KindUnknown, fixFor(KindUnknown)
}

// classifyPOP3 reads a POP3 -ERR to USER, PASS or AUTH: the response codes
// of RFC 3206 ([AUTH], [SYS/TEMP], [SYS/PERM]) and RFC 2449 §8.1
// ([IN-USE], [LOGIN-DELAY]).
func classifyPOP3(text string) (Kind, string) {
	code := ""
	if strings.HasPrefix(text, "[") {
		if end := strings.IndexByte(text, ']'); end > 0 {
			code = strings.ToUpper(text[1:end])
		}
	}
	switch {
	case code == "IN-USE":
		return KindUnknown, "Another program holds the mailbox open: close other mail programs on this account and try again."
	case code == "LOGIN-DELAY":
		return KindUnknown, "The server allows only a few logins per hour: wait, then try again."
	case strings.HasPrefix(code, "SYS"):
		return KindUnknown, "The server has a problem of its own: try again later, or ask the provider's support."
	}
	if k, ok := classifyText(text); ok {
		return k, fixFor(k)
	}
	if code == "AUTH" {
		return KindWrongPassword, fixFor(KindWrongPassword)
	}
	return KindUnknown, fixFor(KindUnknown)
}

const fixTemporary = "The server cannot check passwords right now: try again later."

// fixFor says what the user should do about a rejection of kind k.
func fixFor(k Kind) string {
	switch k {
	case KindWrongPassword:
		return "Check the username and the password; if the provider uses two-step verification, create an app password and use that."
	case KindAppPasswordRequired:
		return "Create an app password in the account's security settings (it needs two-step verification) and use it instead of the account password."
	case KindWebLoginRequired:
		return "Sign in once in a web browser at the provider, confirm the blocked sign-in, then try again."
	case KindOAuthOnly:
		return "The provider accepts only OAuth2 sign-in: use a mail client that supports it (Thunderbird does); a password will not work."
	}
	return "Read the server's words above; if they do not help, ask the provider's support."
}
