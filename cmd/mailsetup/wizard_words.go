package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe"
	"github.com/mailsetup/mailsetup/profiles"
)

// The wizard speaks to a person who "should not have to know what a port
// is" (README): the recommendation in plain words, one sentence per
// problem, the lookup table only with --details. The exact terms stay in
// --json and in 'mailsetup probe'.

// securityWords glosses a connection's security: the term a mail app
// shows, and what it means.
func securityWords(s autoconfig.Security) string {
	switch s {
	case autoconfig.SecurityTLS:
		return "SSL/TLS (encrypted from the start)"
	case autoconfig.SecuritySTARTTLS:
		return "STARTTLS (encrypted after connecting)"
	case autoconfig.SecurityPlain:
		return "none (not encrypted)"
	}
	return string(s)
}

// loginWords is the login name of an endpoint in words.
func loginWords(username string) string {
	switch username {
	case autoconfig.PlaceholderAddress:
		return "your e-mail address"
	case autoconfig.PlaceholderLocalPart:
		return "the part of your address before @"
	}
	return username
}

// writeRecommendationForPeople says what to use and why, one aligned line
// per server, with the security glossed and the login name said once.
func writeRecommendationForPeople(w io.Writer, rec *probe.Recommendation) {
	fmt.Fprintf(w, "Recommended: %s\n", rec.Protocol.DisplayName())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(what string, e probe.Endpoint) {
		fmt.Fprintf(tw, "  %s\t%s\t%s:%d\t%s\n", what, e.Protocol.DisplayName(), e.Host, e.Port, securityWords(e.Security))
	}
	row("Incoming", rec.Incoming)
	if rec.Outgoing != nil {
		row("Outgoing", *rec.Outgoing)
	}
	tw.Flush()
	switch in := loginWords(rec.Incoming.Username); {
	case rec.Outgoing == nil || rec.Outgoing.Username == rec.Incoming.Username:
		fmt.Fprintf(w, "  Login name: %s\n", in)
	case rec.Outgoing.Username == "":
		fmt.Fprintf(w, "  Login name: %s (sending needs no login)\n", in)
	default:
		fmt.Fprintf(w, "  Login name: %s for incoming mail, %s for sending\n", in, loginWords(rec.Outgoing.Username))
	}
	if rec.LeaveMessagesOnServer {
		fmt.Fprintln(w, "  Leave messages on server: on")
	}
	fmt.Fprint(w, wrapText("  Why: ", rec.Reason))
	if rec.WithoutIMAP != "" {
		fmt.Fprint(w, wrapText("  Without IMAP: ", rec.WithoutIMAP))
	}
}

// loginProblems says once per distinct reason why the login was refused,
// with its fix: four servers refusing one wrong password are one problem.
func loginProblems(rep *probe.Report) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range rep.Servers {
		d := s.LoginDetail
		if s.Login != probe.LoginFailed || d == nil {
			continue
		}
		text := "Your login was refused"
		if d.Reason != "" {
			text += ": " + strings.TrimSuffix(d.Reason, ".")
		}
		text += "."
		if d.Fix != "" {
			text += " " + d.Fix
		}
		if !seen[text] {
			seen[text] = true
			out = append(out, text)
		}
	}
	return out
}

// isLoginRefusal reports whether a report warning is about a refused
// login, which loginProblems says once instead. The probe words these
// warnings "Login to SERVER as NAME was refused: ..."; its typed remedies
// (issue 12) will make this reading unnecessary.
func isLoginRefusal(warning string) bool {
	return strings.HasPrefix(warning, "Login to ") && strings.Contains(warning, " was refused")
}

// isPOP3Only reports whether a report warning says only POP3 works, which
// the wizard explains itself before it asks (one warning per problem).
func isPOP3Only(warning string) bool { return strings.HasPrefix(warning, "Only POP3 works") }

// clientChoices are the wizard's labels for the clients, each short enough
// for one line of a narrow terminal; a client without one shows what it
// says of itself.
func clientChoice(f profiles.Format) string {
	label := map[profiles.Format]string{
		profiles.Thunderbird: "Thunderbird on a computer",
		profiles.Outlook:     "Outlook for Windows (classic, not New Outlook)",
		profiles.Apple:       "iPhone, iPad and Mac (Apple Mail)",
		profiles.Android:     "Android (Thunderbird, Gmail, Samsung Email, Outlook)",
		profiles.Sheet:       "a setup sheet to type the settings by hand",
	}[f]
	if label == "" {
		label = f.Clients()
	}
	return label
}

// nothingFoundNextSteps is what a person can do when nothing was found;
// the commands it suggests carry the --sandbox scenario ("" without one).
func nothingFoundNextSteps(addr autoconfig.Address, sandbox string) string {
	again := "mailsetup wizard" + sandboxArg(sandbox)
	return fmt.Sprintf("What you can do: ask %s (your provider) for the name of its incoming (IMAP) and outgoing (SMTP) mail servers; "+
		"if you log in with a name other than your address, run '%s --username NAME'; "+
		"'%s --details' shows everything that was tried.", addr.DomainUnicode, again, again)
}
