package main

import (
	"cmp"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe"
	"github.com/mailsetup/mailsetup/probe/discover"
)

// textWidth is the widest line the report for people may have; longer
// detail stays in the JSON form.
const textWidth = 100

// WriteText writes the report for people: what was found where and whether
// it works, the recommendation and its reason, disagreements and warnings.
// It is short on purpose and the same for the same outcome, run after run:
// --json has every lookup and certificate detail.
func writeReportText(w io.Writer, r *probe.Report) error {
	b := &strings.Builder{}
	subject := r.Email
	if subject == "" {
		subject = r.Domain
	}
	fmt.Fprintf(b, "Probe of %s\n", subject)

	if len(r.Servers) > 0 {
		b.WriteString("\nServers found\n")
		writeServers(b, r)
	}
	if r.Recommendation != nil {
		fmt.Fprintf(b, "  (%s; --json lists each)\n\n", lookupCounts(r))
		writeRecommendation(b, r)
	} else {
		fmt.Fprintf(b, "\n%s\n", nothingWords[r.Status])
		if len(r.Lookups) > 0 {
			fmt.Fprintf(b, "\nWhat was tried (%s; --json lists each)\n", lookupCounts(r))
			writeTried(b, r)
		}
	}
	writeServices(b, r)
	writeList(b, "Disagreements", r.Disagreements)
	var warnings []string
	for _, w := range r.Warnings {
		warnings = append(warnings, nameServerOnce(w))
	}
	writeList(b, "Warnings", warnings)
	var remedies []string
	for _, rem := range r.Remedies {
		remedies = append(remedies, remedyWords(rem))
	}
	writeList(b, "What you can do", remedies)
	if r.ElapsedMS < 1000 {
		fmt.Fprintf(b, "\nTook %d ms.\n", r.ElapsedMS)
	} else {
		fmt.Fprintf(b, "\nTook %.1f s.\n", float64(r.ElapsedMS)/1000)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteRecommendation writes the recommended servers, each on one aligned
// line, the reason in a sentence, how it was proven and what else works.
func writeRecommendation(w io.Writer, r *probe.Report) {
	rec := r.Recommendation
	if rec == nil {
		return
	}
	b := &strings.Builder{}
	fmt.Fprintf(b, "Recommended: %s\n", rec.Protocol.DisplayName())
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  Incoming\t%s\n", strings.Join(endpointCells(rec.Incoming), "\t"))
	if rec.Outgoing != nil {
		fmt.Fprintf(tw, "  Outgoing\t%s\n", strings.Join(endpointCells(*rec.Outgoing), "\t"))
	}
	tw.Flush()
	if rec.LeaveMessagesOnServer {
		b.WriteString("  Leave messages on server: on\n")
	}
	b.WriteString(wrapText("  Why: ", rec.Reason))
	if rec.WithoutIMAP != "" {
		b.WriteString(wrapText("  Without IMAP: ", rec.WithoutIMAP))
	}
	b.WriteString(wrapText("  Proven by: ", confidenceWords[rec.Confidence]))
	// The alternatives are what the published settings list (issue 11), not
	// what was proven: each is worded from its own check.
	var works, notUsed []string
	for _, a := range sortedEndpoints(rec.Alternatives) {
		name := fmt.Sprintf("%s %s:%d (%s", a.Protocol.DisplayName(), a.Host, a.Port, a.Security.Description())
		if why := whyNotUsed(a, r.Servers); why != "" {
			notUsed = append(notUsed, name+", "+why+")")
		} else {
			works = append(works, name+")")
		}
	}
	if len(works) > 0 {
		b.WriteString(wrapText("  Also works: ", strings.Join(works, ", ")))
	}
	if len(notUsed) > 0 {
		b.WriteString(wrapText("  Also published, not used: ", strings.Join(notUsed, ", ")))
	}
	io.WriteString(w, b.String())
}

// whyNotUsed says in a word or two why a published alternative is not one
// that works, from its own check; "" when it works as the table says.
func whyNotUsed(a probe.Endpoint, servers []probe.ServerReport) string {
	for _, s := range servers {
		if !endpointIs(a, s) {
			continue
		}
		switch v := verdict(s); {
		case s.Login == probe.LoginFailed:
			return "login refused"
		case strings.HasPrefix(v, "works"):
			return ""
		case notChecked(s):
			return "not checked"
		case s.TLS != nil && s.TLS.Error != "" && !s.TLS.Valid && !s.TLS.Trusted:
			return "certificate not valid"
		}
		return "failed"
	}
	return "not checked"
}

// WriteServers writes the server table, one aligned line per server: the
// recommended ones first, then by how far each was proven, protocol,
// security, source, host and port, so that the same outcome reads the same
// however the concurrent checks happened to finish.
func writeServers(w io.Writer, r *probe.Report) {
	servers := sortedServers(r)
	// The verdict gets what the other columns leave of textWidth; a long
	// error is clipped (the JSON has it whole).
	var widths [4]int
	for _, s := range servers {
		for i, c := range append(serverCells(s), sourceList(s)) {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	verdictWidth := max(textWidth-2-(widths[0]+widths[1]+widths[2]+widths[3])-4*2, 32)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range servers {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", strings.Join(serverCells(s), "\t"), clip(verdict(s), verdictWidth), sourceList(s))
	}
	tw.Flush()
}

func sortedServers(r *probe.Report) []probe.ServerReport {
	recommended := func(s probe.ServerReport) int {
		if rec := r.Recommendation; rec != nil {
			if endpointIs(rec.Incoming, s) || (rec.Outgoing != nil && endpointIs(*rec.Outgoing, s)) {
				return 0
			}
		}
		return 1
	}
	out := slices.Clone(r.Servers)
	slices.SortStableFunc(out, func(a, b probe.ServerReport) int {
		return cmp.Or(
			cmp.Compare(directionOf(a.Protocol), directionOf(b.Protocol)),
			cmp.Compare(recommended(a), recommended(b)),
			cmp.Compare(outcomeRank(a), outcomeRank(b)),
			cmp.Compare(a.Protocol.Preference(), b.Protocol.Preference()),
			cmp.Compare(a.Security.Preference(), b.Security.Preference()),
			cmp.Compare(bestSourceRank(a.Sources), bestSourceRank(b.Sources)),
			cmp.Compare(a.Host, b.Host),
			cmp.Compare(a.Port, b.Port),
		)
	})
	return out
}

func endpointIs(e probe.Endpoint, s probe.ServerReport) bool {
	return e.Protocol == s.Protocol && e.Host == s.Host && e.Port == s.Port && e.Security == s.Security
}

// directionOf puts incoming servers before outgoing ones.
func directionOf(p autoconfig.Protocol) int {
	if p == autoconfig.SMTP {
		return 1
	}
	return 0
}

// outcomeRank mirrors the ranking's tiers from what the report shows.
func outcomeRank(s probe.ServerReport) int {
	switch {
	case s.Login == probe.LoginFailed:
		return 2
	case serverWorks(s) && s.TLS != nil && s.TLS.Valid:
		return 0
	case serverWorks(s):
		return 1
	case notChecked(s):
		return 3
	}
	return 4
}

func serverWorks(s probe.ServerReport) bool {
	return s.Reachable && s.Error == "" &&
		((s.TLS != nil && (s.TLS.Valid || s.TLS.Trusted)) || s.Security == autoconfig.SecurityPlain)
}

func bestSourceRank(srcs []probe.Source) int {
	best := 6
	for _, s := range srcs {
		best = min(best, s.Rank())
	}
	return best
}

func sortedEndpoints(es []probe.Endpoint) []probe.Endpoint {
	out := slices.Clone(es)
	slices.SortStableFunc(out, func(a, b probe.Endpoint) int {
		return cmp.Or(
			cmp.Compare(directionOf(a.Protocol), directionOf(b.Protocol)),
			cmp.Compare(a.Protocol.Preference(), b.Protocol.Preference()),
			cmp.Compare(a.Security.Preference(), b.Security.Preference()),
			cmp.Compare(a.Host, b.Host),
			cmp.Compare(a.Port, b.Port),
		)
	})
	return out
}

// Cells is the server as every command prints it, one tab-separated cell
// each: protocol, host:port, security.
func serverCells(s probe.ServerReport) []string {
	return []string{s.Protocol.DisplayName(), fmt.Sprintf("%s:%d", s.Host, s.Port), s.Security.Description()}
}

// Cells is the endpoint as every command prints it: protocol, host:port,
// security, the username, and the authentication when it is not the usual
// password.
func endpointCells(e probe.Endpoint) []string {
	cells := []string{e.Protocol.DisplayName(), fmt.Sprintf("%s:%d", e.Host, e.Port), e.Security.Description(),
		"user " + userWords(e)}
	if e.Auth != "" && e.Auth != autoconfig.AuthPasswordCleartext {
		cells = append(cells, authWords(e.Auth))
	}
	return cells
}

// UserWords is the username for people: a probe of a bare domain knows
// only its template, which is said in words instead of placeholders.
func userWords(e probe.Endpoint) string {
	switch e.Username {
	case autoconfig.PlaceholderAddress:
		return "your full address"
	case autoconfig.PlaceholderLocalPart:
		return "the part before @"
	}
	return e.Username
}

var confidenceWords = map[string]string{
	probe.ConfidenceLogin:         "a login with your password over a verified connection",
	probe.ConfidenceTLS:           "a verified TLS connection and the server's answers (no password given, so no login)",
	probe.ConfidencePinned:        "a connection whose certificate you pinned with --trust-cert",
	probe.ConfidencePlaintext:     "an unencrypted connection you allowed with --allow-plaintext",
	probe.ConfidenceLoginRejected: "a verified TLS connection; your login was refused, see the warnings",
	probe.ConfidenceUnconfirmed:   "a verified TLS connection only: no login was tried where your password may not go without your consent, or the login got no answer in time (see the warnings)",
}

var nothingWords = map[probe.Status]string{
	probe.StatusNothingFound:  "Nothing works: no server could be reached and proven.",
	probe.StatusInsecureOnly:  "Nothing secure works: only servers without valid TLS answered (see the warnings).",
	probe.StatusLoginRejected: "The login was refused.",
}

// remedyWords says what the user can do, with the flag that does it: the
// library names the what (a fingerprint, a host), the command line the how.
func remedyWords(r probe.Remedy) string {
	switch r.Kind {
	case probe.RemedyPinCertificate:
		return fmt.Sprintf("If you trust the certificate of %s:%d, pass --trust-cert %s", r.Host, r.Port, r.SHA256)
	case probe.RemedyAllowPlaintext:
		return fmt.Sprintf("To use %s:%d without encryption (your password would cross the network readable by anyone on the way), pass --allow-plaintext", r.Host, r.Port)
	case probe.RemedyConfirmHost:
		return fmt.Sprintf("If you trust %s with your password, pass --trust-host %s (docs/password-rule.md)", r.Host, r.Host)
	case probe.RemedyLongerTimeout:
		return "A longer --timeout may find more"
	}
	return string(r.Kind)
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
		b.WriteString(wrapText("  - ", it))
	}
}

// Wrap is prefix and text as lines within textWidth, broken at spaces,
// continuation lines indented under the text.
func wrapText(prefix, text string) string {
	b := &strings.Builder{}
	indent := strings.Repeat(" ", len(prefix))
	line := prefix
	fresh := true
	for _, word := range strings.Fields(text) {
		if !fresh && len(line)+1+len(word) > textWidth {
			b.WriteString(line + "\n")
			line, fresh = indent, true
		}
		if !fresh {
			line += " "
		}
		line += word
		fresh = false
	}
	b.WriteString(line + "\n")
	return b.String()
}

// SourceList names the discovery methods that found the server, the
// domain's own word first, each once.
func sourceList(s probe.ServerReport) string {
	srcs := slices.Clone(s.Sources)
	slices.SortStableFunc(srcs, func(a, b probe.Source) int {
		return cmp.Or(cmp.Compare(a.Rank(), b.Rank()), cmp.Compare(a.Method, b.Method))
	})
	var names []string
	for _, src := range srcs {
		if !slices.Contains(names, src.Method) {
			names = append(names, src.Method)
		}
	}
	return strings.Join(names, ", ")
}

// Verdict says in a few words whether a server works; every command uses
// the same words.
func verdict(s probe.ServerReport) string {
	switch {
	case s.Login == probe.LoginOK:
		return "works, login ok"
	case s.Login == probe.LoginFailed:
		return "works, login refused"
	case s.NotConfirmed != "" && s.Reachable && s.Error == "":
		return "works, not confirmed"
	case s.LoginDetail != nil && s.LoginDetail.Kind == probe.LoginKindNoAnswer:
		return "works, login unanswered"
	case s.Reachable && s.Error == "" && s.TLS != nil && s.TLS.Valid:
		return "works"
	case s.Reachable && s.Error == "" && s.TLS != nil && s.TLS.Trusted:
		return "works (pinned certificate)"
	case s.Reachable && s.Error == "" && s.Security == autoconfig.SecurityPlain:
		return "works, unencrypted"
	case notChecked(s):
		if strings.Contains(s.Error, "better server") {
			return "not checked: a better one works"
		}
		return "not checked: time ran out"
	case s.Error != "":
		return shortReason(s.Error, 0)
	}
	return "not checked"
}

// NotChecked reports whether the probe ended before it proved s either way:
// a better server was proven first, or the time ran out.
func notChecked(s probe.ServerReport) bool {
	for _, p := range []string{"not checked", "check stopped", "check cut short"} {
		if strings.HasPrefix(s.Error, p) {
			return true
		}
	}
	return false
}

// LookupCounts sums up the lookups in a few words.
func lookupCounts(r *probe.Report) string {
	ls := r.Lookups
	n := map[string]int{}
	for _, l := range ls {
		n[l.Status]++
	}
	s := fmt.Sprintf("%d lookups: %d found something, %d nothing, %d failed", len(ls), n["found"], n["none"], n["error"])
	for _, other := range []string{"skipped", "cancelled"} {
		if n[other] > 0 {
			s += fmt.Sprintf(", %d %s", n[other], other)
		}
	}
	return s
}

// methodOrder is the order "What was tried" lists the discovery methods:
// the domain's own DNS and files, then third parties, then guessing.
var methodOrder = []string{
	discover.MethodSRV, discover.MethodMX, discover.MethodAutoconfig, discover.MethodWellKnown,
	discover.MethodAutoconfigHTTP, discover.MethodAutodiscover, discover.MethodISPDB,
	discover.MethodMXISPDB, discover.MethodMXAutoconfig, discover.MethodGuess,
}

// triedRow is one line of "What was tried": lookups of one method with the
// same outcome, summarised.
type triedRow struct {
	method, outcome string
	targets         []string
}

// WriteTried writes the lookups as an aligned table within textWidth, in a
// fixed order (method, then outcome, then target); lookups of one method
// with the same outcome share a line with their count.
func writeTried(w io.Writer, r *probe.Report) {
	const targetWidth, outcomeWidth = 40, 38
	ls := slices.Clone(r.Lookups)
	order := func(m string) int {
		if i := slices.Index(methodOrder, m); i >= 0 {
			return i
		}
		return len(methodOrder)
	}
	slices.SortStableFunc(ls, func(a, b probe.Lookup) int {
		return cmp.Or(
			cmp.Compare(order(a.Method), order(b.Method)),
			cmp.Compare(a.Method, b.Method),
			cmp.Compare(lookupOutcome(a), lookupOutcome(b)),
			cmp.Compare(a.Target, b.Target),
		)
	})
	var rows []*triedRow
	for _, l := range ls {
		out := lookupOutcome(l)
		if n := len(rows); n > 0 && rows[n-1].method == l.Method && rows[n-1].outcome == out {
			rows[n-1].targets = append(rows[n-1].targets, l.Target)
			continue
		}
		rows = append(rows, &triedRow{method: l.Method, outcome: out, targets: []string{l.Target}})
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range rows {
		target := shortTarget(row.targets[0])
		if n := len(row.targets); n > 1 {
			more := fmt.Sprintf(" and %d more", n-1)
			target = clip(target, targetWidth-len(more)) + more
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", row.method, clip(target, targetWidth), clip(row.outcome, outcomeWidth))
	}
	tw.Flush()
}

// lookupOutcome is a lookup's status and reason in a few words.
func lookupOutcome(l probe.Lookup) string {
	reason := shortReason(l.Error, 0)
	switch l.Status {
	case "found":
		if l.Method == discover.MethodGuess && !strings.Contains(l.Target, ":") {
			// A guessed host that resolves is not yet a server.
			return "has an address"
		}
		return "found"
	case "none":
		switch {
		case reason == "":
			return "nothing"
		case strings.HasPrefix(reason, "nothing published"):
			return reason
		}
		return "nothing: " + reason
	case "error":
		if reason == "" {
			return "failed"
		}
		return "failed: " + reason
	}
	if reason == "" {
		return l.Status
	}
	return l.Status + ": " + reason
}

// serverNamedTwice matches a warning that names its server and then quotes
// a check's finding that names it again: "IMAP h:143: IMAP on h:143 refused".
var serverNamedTwice = regexp.MustCompile(`^(\w+) (\S+:\d+): (\w+) on (\S+:\d+) `)

// nameServerOnce says the server of such a warning once:
// "IMAP h:143 refused STARTTLS ...".
func nameServerOnce(w string) string {
	m := serverNamedTwice.FindStringSubmatch(w)
	if m == nil || m[1] != m[3] || m[2] != m[4] {
		return w
	}
	return m[1] + " " + m[2] + " " + w[len(m[0]):]
}

var (
	httpOpPrefix  = regexp.MustCompile(`^(Get|Post|Head) "[^"]*": `)
	dnsQueryLabel = regexp.MustCompile(`(^|: )(A|AAAA|SRV|MX|TXT|CNAME|TLSA) [^ :]+: `)
	dialPrefix    = regexp.MustCompile(`dial \w+ [^ ]+: (connect: )?`)
	quotedTail    = regexp.MustCompile(`: "[^"]*"$`)
	fromTail      = regexp.MustCompile(` from [^ ]+$`)
	onHostPort    = regexp.MustCompile(` on [^ ]+:\d+`)
	readingThe    = regexp.MustCompile(`^reading the \w+ greeting: `)
)

// shortReason keeps what an error means and drops what it repeats (the
// URL, the name asked, the address dialled); max > 0 clips the result.
func shortReason(s string, max int) string {
	if i := strings.Index(s, "; "); i > 0 {
		s = s[:i]
	}
	s = httpOpPrefix.ReplaceAllString(s, "")
	s = dnsQueryLabel.ReplaceAllString(s, "$1")
	for _, pkg := range []string{"netx: ", "verify: ", "discover: "} {
		s = strings.ReplaceAll(s, pkg, "")
	}
	s = dialPrefix.ReplaceAllString(s, "")
	s = quotedTail.ReplaceAllString(s, "")
	s = fromTail.ReplaceAllString(s, "")
	s = onHostPort.ReplaceAllString(s, "")
	s = readingThe.ReplaceAllString(s, "greeting: ")
	// "no address" alone reads as a missing e-mail address.
	s = strings.ReplaceAll(s, "the host has no address", "no IP address")
	s = strings.ReplaceAll(s, "host has no address", "host has no IP address")
	s = strings.ReplaceAll(s, "the DNS server could not answer: ", "DNS answered ")
	if max > 0 {
		s = clip(s, max)
	}
	return s
}

// shortTarget is a lookup's target without what the method already says:
// a URL keeps its scheme and host.
func shortTarget(t string) string {
	u, err := url.Parse(t)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return t
	}
	if u.Path == "" || u.Path == "/" {
		return u.Scheme + "://" + u.Host
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// clip cuts s to at most max characters, marking the cut.
func clip(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max-1]) + "…"
}
