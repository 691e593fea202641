package probe

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
	"github.com/mailsetup/mailsetup/probe/discover"
)

// TextWidth is the widest line the report for people may have; longer
// detail stays in the JSON form.
const TextWidth = 100

// WriteText writes the report for people: what was found where and whether
// it works, the recommendation and its reason, disagreements and warnings.
// It is short on purpose and the same for the same outcome, run after run:
// --json has every lookup and certificate detail.
func (r *Report) WriteText(w io.Writer) error {
	b := &strings.Builder{}
	subject := r.Email
	if subject == "" {
		subject = r.Domain
	}
	fmt.Fprintf(b, "Probe of %s\n", subject)

	if len(r.Servers) > 0 {
		b.WriteString("\nServers found\n")
		r.WriteServers(b)
	}
	if r.Recommendation != nil {
		fmt.Fprintf(b, "  (%s; --json lists each)\n\n", r.LookupCounts())
		r.WriteRecommendation(b)
	} else {
		fmt.Fprintf(b, "\n%s\n", nothingWords[r.Status])
		if len(r.Lookups) > 0 {
			fmt.Fprintf(b, "\nWhat was tried (%s; --json lists each)\n", r.LookupCounts())
			r.WriteTried(b)
		}
	}
	r.WriteServices(b)
	writeList(b, "Disagreements", r.Disagreements)
	writeList(b, "Warnings", r.Warnings)
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
func (r *Report) WriteRecommendation(w io.Writer) {
	rec := r.Recommendation
	if rec == nil {
		return
	}
	b := &strings.Builder{}
	fmt.Fprintf(b, "Recommended: %s\n", rec.Protocol.DisplayName())
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  Incoming\t%s\n", strings.Join(rec.Incoming.Cells(), "\t"))
	if rec.Outgoing != nil {
		fmt.Fprintf(tw, "  Outgoing\t%s\n", strings.Join(rec.Outgoing.Cells(), "\t"))
	}
	tw.Flush()
	if rec.LeaveMessagesOnServer {
		b.WriteString("  Leave messages on server: on\n")
	}
	b.WriteString(Wrap("  Why: ", rec.Reason))
	if rec.WithoutIMAP != "" {
		b.WriteString(Wrap("  Without IMAP: ", rec.WithoutIMAP))
	}
	b.WriteString(Wrap("  Proven by: ", confidenceWords[rec.Confidence]))
	if alts := sortedEndpoints(rec.Alternatives); len(alts) > 0 {
		var names []string
		for _, a := range alts {
			names = append(names, fmt.Sprintf("%s %s:%d (%s)", a.Protocol.DisplayName(), a.Host, a.Port, a.Security.Description()))
		}
		b.WriteString(Wrap("  Also works: ", strings.Join(names, ", ")))
	}
	io.WriteString(w, b.String())
}

// WriteServers writes the server table, one aligned line per server: the
// recommended ones first, then by how far each was proven, protocol,
// security, source, host and port, so that the same outcome reads the same
// however the concurrent checks happened to finish.
func (r *Report) WriteServers(w io.Writer) {
	servers := r.sortedServers()
	// The verdict gets what the other columns leave of TextWidth; a long
	// error is clipped (the JSON has it whole).
	var widths [4]int
	for _, s := range servers {
		for i, c := range append(s.Cells(), s.SourceList()) {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	verdictWidth := max(TextWidth-2-(widths[0]+widths[1]+widths[2]+widths[3])-4*2, 32)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range servers {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", strings.Join(s.Cells(), "\t"), clip(s.Verdict(), verdictWidth), s.SourceList())
	}
	tw.Flush()
}

func (r *Report) sortedServers() []ServerReport {
	recommended := func(s ServerReport) int {
		if rec := r.Recommendation; rec != nil {
			if rec.Incoming.is(s) || (rec.Outgoing != nil && rec.Outgoing.is(s)) {
				return 0
			}
		}
		return 1
	}
	out := slices.Clone(r.Servers)
	slices.SortStableFunc(out, func(a, b ServerReport) int {
		return cmp.Or(
			cmp.Compare(directionOf(a.Protocol), directionOf(b.Protocol)),
			cmp.Compare(recommended(a), recommended(b)),
			cmp.Compare(a.outcomeRank(), b.outcomeRank()),
			cmp.Compare(protocolRank(a.Protocol), protocolRank(b.Protocol)),
			cmp.Compare(securityRank(a.Security), securityRank(b.Security)),
			cmp.Compare(bestSourceRank(a.Sources), bestSourceRank(b.Sources)),
			cmp.Compare(a.Host, b.Host),
			cmp.Compare(a.Port, b.Port),
		)
	})
	return out
}

func (e Endpoint) is(s ServerReport) bool {
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
func (s ServerReport) outcomeRank() int {
	switch {
	case s.Login == LoginFailed:
		return 2
	case s.works() && s.TLS != nil && s.TLS.Valid:
		return 0
	case s.works():
		return 1
	case s.NotChecked():
		return 3
	}
	return 4
}

func (s ServerReport) works() bool {
	return s.Reachable && s.Error == "" &&
		((s.TLS != nil && (s.TLS.Valid || s.TLS.Trusted)) || s.Security == autoconfig.SecurityPlain)
}

func bestSourceRank(srcs []Source) int {
	best := 6
	for _, s := range srcs {
		best = min(best, sourceRank(s))
	}
	return best
}

func sortedEndpoints(es []Endpoint) []Endpoint {
	out := slices.Clone(es)
	slices.SortStableFunc(out, func(a, b Endpoint) int {
		return cmp.Or(
			cmp.Compare(directionOf(a.Protocol), directionOf(b.Protocol)),
			cmp.Compare(protocolRank(a.Protocol), protocolRank(b.Protocol)),
			cmp.Compare(securityRank(a.Security), securityRank(b.Security)),
			cmp.Compare(a.Host, b.Host),
			cmp.Compare(a.Port, b.Port),
		)
	})
	return out
}

// Cells is the server as every command prints it, one tab-separated cell
// each: protocol, host:port, security.
func (s ServerReport) Cells() []string {
	return []string{s.Protocol.DisplayName(), fmt.Sprintf("%s:%d", s.Host, s.Port), s.Security.Description()}
}

// Cells is the endpoint as every command prints it: protocol, host:port,
// security, the username, and the authentication when it is not the usual
// password.
func (e Endpoint) Cells() []string {
	cells := []string{e.Protocol.DisplayName(), fmt.Sprintf("%s:%d", e.Host, e.Port), e.Security.Description(),
		"user " + e.UserWords()}
	if e.Auth != "" && e.Auth != autoconfig.AuthPasswordCleartext {
		cells = append(cells, authWords(e.Auth))
	}
	return cells
}

// UserWords is the username for people: a probe of a bare domain knows
// only its template, which is said in words instead of placeholders.
func (e Endpoint) UserWords() string {
	switch e.Username {
	case autoconfig.PlaceholderAddress:
		return "your full address"
	case autoconfig.PlaceholderLocalPart:
		return "the part before @"
	}
	return e.Username
}

var confidenceWords = map[string]string{
	ConfidenceLogin:         "a login with your password over a verified connection",
	ConfidenceTLS:           "a verified TLS connection and the server's answers (no password given, so no login)",
	ConfidencePinned:        "a connection whose certificate you pinned with --trust-cert",
	ConfidencePlaintext:     "an unencrypted connection you allowed with --allow-plaintext",
	ConfidenceLoginRejected: "a verified TLS connection; your login was refused, see the warnings",
	ConfidenceUnconfirmed:   "a verified TLS connection only: no login was tried where your password may not go without your consent, or the login got no answer in time (see the warnings)",
}

var nothingWords = map[Status]string{
	StatusNothingFound:  "Nothing works: no server could be reached and proven.",
	StatusInsecureOnly:  "Nothing secure works: only servers without valid TLS answered (see the warnings).",
	StatusLoginRejected: "The login was refused.",
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
		b.WriteString(Wrap("  - ", it))
	}
}

// Wrap is prefix and text as lines within TextWidth, broken at spaces,
// continuation lines indented under the text.
func Wrap(prefix, text string) string {
	b := &strings.Builder{}
	indent := strings.Repeat(" ", len(prefix))
	line := prefix
	fresh := true
	for _, word := range strings.Fields(text) {
		if !fresh && len(line)+1+len(word) > TextWidth {
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
func (s ServerReport) SourceList() string {
	srcs := slices.Clone(s.Sources)
	slices.SortStableFunc(srcs, func(a, b Source) int {
		return cmp.Or(cmp.Compare(sourceRank(a), sourceRank(b)), cmp.Compare(a.Method, b.Method))
	})
	var names []string
	for _, src := range srcs {
		if !contains(names, src.Method) {
			names = append(names, src.Method)
		}
	}
	return strings.Join(names, ", ")
}

// Verdict says in a few words whether a server works; every command uses
// the same words.
func (s ServerReport) Verdict() string {
	switch {
	case s.Login == LoginOK:
		return "works, login ok"
	case s.Login == LoginFailed:
		return "works, login refused"
	case s.NotConfirmed != "" && s.Reachable && s.Error == "":
		return "works, not confirmed"
	case s.LoginDetail != nil && s.LoginDetail.Kind == LoginKindNoAnswer:
		return "works, login unanswered"
	case s.Reachable && s.Error == "" && s.TLS != nil && s.TLS.Valid:
		return "works"
	case s.Reachable && s.Error == "" && s.TLS != nil && s.TLS.Trusted:
		return "works (pinned certificate)"
	case s.Reachable && s.Error == "" && s.Security == autoconfig.SecurityPlain:
		return "works, unencrypted"
	case s.NotChecked():
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
func (s ServerReport) NotChecked() bool {
	for _, p := range []string{"not checked", "check stopped", "check cut short"} {
		if strings.HasPrefix(s.Error, p) {
			return true
		}
	}
	return false
}

// LookupCounts sums up the lookups in a few words.
func (r *Report) LookupCounts() string {
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

// WriteTried writes the lookups as an aligned table within TextWidth, in a
// fixed order (method, then outcome, then target); lookups of one method
// with the same outcome share a line with their count.
func (r *Report) WriteTried(w io.Writer) {
	const targetWidth, outcomeWidth = 40, 38
	ls := slices.Clone(r.Lookups)
	order := func(m string) int {
		if i := slices.Index(methodOrder, m); i >= 0 {
			return i
		}
		return len(methodOrder)
	}
	slices.SortStableFunc(ls, func(a, b Lookup) int {
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
func lookupOutcome(l Lookup) string {
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
	s = strings.ReplaceAll(s, "the host has no address", "no address")
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
