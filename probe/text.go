package probe

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// WriteText writes the report for people: what was found where and whether
// it works, the recommendation and its reason, disagreements and warnings.
// It is short on purpose; --json has every lookup and certificate detail.
func (r *Report) WriteText(w io.Writer) error {
	b := &strings.Builder{}
	subject := r.Email
	if subject == "" {
		subject = r.Domain
	}
	fmt.Fprintf(b, "Probe of %s\n\n", subject)

	if len(r.Servers) == 0 {
		b.WriteString("No server was found.\n")
	} else {
		b.WriteString("Servers found\n")
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		for _, s := range r.Servers {
			fmt.Fprintf(tw, "  %s\t%s:%d\t%s\t%s\t%s\n", s.Protocol.DisplayName(), s.Host, s.Port, s.Security.Description(),
				sourceList(s.Sources), verdict(s))
		}
		tw.Flush()
	}
	found, none, failed := 0, 0, 0
	for _, l := range r.Lookups {
		switch l.Status {
		case "found":
			found++
		case "error":
			failed++
		default:
			none++
		}
	}
	fmt.Fprintf(b, "  (%d lookups: %d found something, %d nothing, %d failed; --json lists each)\n\n", len(r.Lookups), found, none, failed)

	if rec := r.Recommendation; rec != nil {
		fmt.Fprintf(b, "Recommended: %s\n", rec.Protocol.DisplayName())
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		writeEndpoint(tw, "Incoming", rec.Incoming)
		if rec.Outgoing != nil {
			writeEndpoint(tw, "Outgoing", *rec.Outgoing)
		}
		tw.Flush()
		if rec.LeaveMessagesOnServer {
			b.WriteString("  Leave messages on server: on\n")
		}
		fmt.Fprintf(b, "  Why: %s\n", rec.Reason)
		if rec.WithoutIMAP != "" {
			fmt.Fprintf(b, "  Without IMAP: %s\n", rec.WithoutIMAP)
		}
		fmt.Fprintf(b, "  Proven by: %s\n", confidenceWords[rec.Confidence])
		if len(rec.Alternatives) > 0 {
			var alts []string
			for _, a := range rec.Alternatives {
				alts = append(alts, fmt.Sprintf("%s %s:%d (%s)", a.Protocol.DisplayName(), a.Host, a.Port, a.Security.Description()))
			}
			fmt.Fprintf(b, "  Also works: %s\n", strings.Join(alts, ", "))
		}
	} else {
		b.WriteString(nothingWords[r.Status] + "\n")
		if len(r.Lookups) > 0 {
			b.WriteString("\nWhat was tried\n")
			tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
			for _, l := range r.Lookups {
				line := "  " + l.Method + "\t" + l.Target + "\t" + l.Status
				if l.Error != "" {
					line += "\t" + firstClause(l.Error)
				}
				fmt.Fprintln(tw, line)
			}
			tw.Flush()
		}
	}
	writeList(b, "Disagreements", r.Disagreements)
	writeList(b, "Warnings", r.Warnings)
	fmt.Fprintf(b, "\nTook %.1f s.\n", float64(r.ElapsedMS)/1000)
	_, err := io.WriteString(w, b.String())
	return err
}

var confidenceWords = map[string]string{
	ConfidenceLogin:         "a successful login with your password over a verified connection",
	ConfidenceTLS:           "a verified TLS connection and the server's answers (no password given, so no login was tried)",
	ConfidencePinned:        "a connection whose certificate you pinned with --trust-cert",
	ConfidencePlaintext:     "an unencrypted connection you allowed with --allow-plaintext",
	ConfidenceLoginRejected: "a verified TLS connection; your login was refused, see the warnings",
}

var nothingWords = map[Status]string{
	StatusNothingFound:  "Nothing works: no server could be reached and proven.",
	StatusInsecureOnly:  "Nothing secure works: only servers without a valid certificate or without encryption answered. See the warnings for the flag that would accept them, and think twice.",
	StatusLoginRejected: "The login was refused.",
}

func writeEndpoint(w io.Writer, label string, e Endpoint) {
	fmt.Fprintf(w, "  %s\t%s\t%s\tport %d\t%s\tusername %s\t%s\n", label, e.Protocol.DisplayName(), e.Host, e.Port, e.Security.Description(), e.Username, authWords(e.Auth))
}

func authWords(a autoconfig.AuthMethod) string {
	switch a {
	case autoconfig.AuthPasswordCleartext:
		return "normal password"
	case autoconfig.AuthPasswordEncrypted:
		return "encrypted password"
	case autoconfig.AuthOAuth2:
		return "OAuth2"
	}
	return string(a)
}

func writeList(b *strings.Builder, title string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s\n", title)
	for _, it := range items {
		fmt.Fprintf(b, "  - %s\n", it)
	}
}

func sourceList(srcs []Source) string {
	var names []string
	for _, s := range srcs {
		if !contains(names, s.Method) {
			names = append(names, s.Method)
		}
	}
	return strings.Join(names, ", ")
}

// verdict says in a few words whether a server works.
func verdict(s ServerReport) string {
	switch {
	case s.Login == LoginOK:
		return "works, login ok"
	case s.Login == LoginFailed:
		return "works, login refused"
	case s.Reachable && s.Error == "" && s.TLS != nil && s.TLS.Valid:
		return "works"
	case s.Reachable && s.Error == "" && s.TLS != nil && s.TLS.Trusted:
		return "works (pinned certificate)"
	case s.Reachable && s.Error == "" && s.Security == autoconfig.SecurityPlain:
		return "works, unencrypted"
	case s.Error != "":
		return firstClause(s.Error)
	}
	return "not checked"
}

// firstClause keeps a long error readable in a table.
func firstClause(s string) string {
	if i := strings.Index(s, "; "); i > 0 {
		s = s[:i]
	}
	const max = 70
	if len(s) > max {
		s = s[:max-1] + "…"
	}
	return s
}
