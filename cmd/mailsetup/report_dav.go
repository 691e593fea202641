package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/mailsetup/mailsetup/probe"
	"github.com/mailsetup/mailsetup/probe/dav"
)

// writeServices writes one line each for calendars, contacts and JMAP:
// the service the settings use (or the best one found) and how far it was
// proven. Nothing when none was found.
func writeServices(w io.Writer, r *probe.Report) {
	var lines [][2]string
	for _, k := range []string{string(dav.CalDAV), string(dav.CardDAV), string(dav.JMAP)} {
		list := r.DAV
		if k == string(dav.JMAP) {
			list = r.JMAP
		}
		if d, ok := bestService(list, k); ok {
			lines = append(lines, [2]string{dav.Kind(k).DisplayName(), d.URL + "  " + davWords(d)})
		}
	}
	if len(lines) == 0 {
		return
	}
	b := &strings.Builder{}
	b.WriteString("\nCalendars, contacts and JMAP\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for _, l := range lines {
		fmt.Fprintf(tw, "  %s\t%s\n", l[0], clip(l[1], 2*textWidth))
	}
	tw.Flush()
	io.WriteString(w, b.String())
}

// bestService is the first proven service of a kind, else the first
// verified one, else the first one a source published (a guess that came
// to nothing is no news to people; --json lists it).
func bestService(list []probe.DAVReport, kind string) (probe.DAVReport, bool) {
	for _, want := range []probe.DAVStatus{probe.DAVProven, probe.DAVVerified, ""} {
		for _, d := range list {
			if d.Kind == kind && (d.Status == want || want == "" && !onlyGuessed(d)) {
				return d, true
			}
		}
	}
	return probe.DAVReport{}, false
}

func onlyGuessed(d probe.DAVReport) bool {
	return !slices.ContainsFunc(d.Sources, func(s probe.Source) bool { return s.Method != dav.MethodGuess })
}

// davWords says in a few words how far a service was proven.
func davWords(d probe.DAVReport) string {
	switch d.Status {
	case probe.DAVProven:
		if d.Kind == string(dav.JMAP) {
			return "login works; API " + strings.Join(relativeTo(d.URL, []string{d.APIURL}), "") + " (IMAP stays recommended)"
		}
		return "login works; home " + strings.Join(relativeTo(d.URL, d.HomeSets), ", ")
	case probe.DAVVerified:
		if d.NotConfirmed != "" {
			return "answers with valid TLS; " + d.NotConfirmed
		}
		return "answers with valid TLS; no login tried"
	case probe.DAVPlaintext:
		return "plain http only: not used"
	}
	if d.Error != "" {
		return "does not work: " + d.Error
	}
	return string(d.Status)
}

// relativeTo shortens URLs on base's origin to their paths, for a line
// that already names the origin.
func relativeTo(base string, urls []string) []string {
	origin := base
	if i := strings.Index(base, "://"); i >= 0 {
		if j := strings.IndexByte(base[i+3:], '/'); j >= 0 {
			origin = base[:i+3+j]
		}
	}
	out := make([]string, len(urls))
	for i, u := range urls {
		out[i] = u
		if rest, ok := strings.CutPrefix(u, origin); ok && strings.HasPrefix(rest, "/") {
			out[i] = rest
		}
	}
	return out
}
