package dav

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Namespaces of the properties asked for.
const (
	nsDAV     = "DAV:"
	nsCalDAV  = "urn:ietf:params:xml:ns:caldav"
	nsCardDAV = "urn:ietf:params:xml:ns:carddav"
)

// Bounds on a multistatus answer beyond netx.ReadBody's 1 MiB: a principal
// has one URL and a few home sets; more is an attack on the report.
const (
	maxHrefs      = 16
	maxHrefLength = 2048
	maxDepth      = 64
)

// errNotMultistatus is an answer that is not a usable RFC 4918 §14.16
// multistatus document.
var errNotMultistatus = errors.New("dav: the answer is not a WebDAV multistatus document")

// properties are the hrefs of the properties asked for, as the server
// sent them (relative or absolute), from the propstats with status 200.
type properties struct {
	Principal []string
	HomeSets  []string
}

type hrefList struct {
	Hrefs []string `xml:"DAV: href"`
}

type multistatus struct {
	XMLName   xml.Name `xml:"DAV: multistatus"`
	Responses []struct {
		Propstats []struct {
			Status string `xml:"DAV: status"`
			Prop   struct {
				Principal   *hrefList `xml:"DAV: current-user-principal"`
				CalendarSet *hrefList `xml:"urn:ietf:params:xml:ns:caldav calendar-home-set"`
				ContactsSet *hrefList `xml:"urn:ietf:params:xml:ns:carddav addressbook-home-set"`
			} `xml:"DAV: prop"`
		} `xml:"DAV: propstat"`
	} `xml:"DAV: response"`
}

// parseMultistatus reads the current-user-principal and the home set of
// kind from a PROPFIND answer. It refuses documents nested deeper than
// maxDepth or holding a DTD (encoding/xml expands no entities; a DOCTYPE
// has no business in a DAV answer), and keeps at most maxHrefs hrefs of at
// most maxHrefLength bytes each.
func parseMultistatus(body []byte, kind Kind) (properties, error) {
	if err := checkShape(body); err != nil {
		return properties{}, err
	}
	var ms multistatus
	if err := xml.Unmarshal(body, &ms); err != nil {
		return properties{}, fmt.Errorf("%w: %v", errNotMultistatus, err)
	}
	var p properties
	keep := func(dst *[]string, l *hrefList) {
		if l == nil {
			return
		}
		for _, h := range l.Hrefs {
			h = strings.TrimSpace(h)
			if h != "" && len(h) <= maxHrefLength && len(*dst) < maxHrefs && !strings.ContainsAny(h, "\x00\r\n\t") {
				*dst = append(*dst, h)
			}
		}
	}
	for _, r := range ms.Responses {
		for _, ps := range r.Propstats {
			if ps.Status != "" && !strings.Contains(ps.Status, " 200") {
				continue
			}
			keep(&p.Principal, ps.Prop.Principal)
			switch kind {
			case CalDAV:
				keep(&p.HomeSets, ps.Prop.CalendarSet)
			case CardDAV:
				keep(&p.HomeSets, ps.Prop.ContactsSet)
			}
		}
	}
	return p, nil
}

// checkShape walks the tokens once: no DTD, no nesting beyond maxDepth.
func checkShape(body []byte) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	depth := 0
	for {
		tok, err := d.RawToken()
		if err != nil {
			if depth == 0 && errors.Is(err, io.EOF) {
				return nil
			}
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("%w: the document ends inside an element", errNotMultistatus)
			}
			return fmt.Errorf("%w: %v", errNotMultistatus, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth++; depth > maxDepth {
				return fmt.Errorf("%w: elements nested deeper than %d", errNotMultistatus, maxDepth)
			}
		case xml.EndElement:
			depth--
		case xml.Directive:
			if bytes.HasPrefix(bytes.TrimSpace(t), []byte("DOCTYPE")) {
				return fmt.Errorf("%w: it holds a DOCTYPE", errNotMultistatus)
			}
		}
	}
}

// propfindBody asks for the principal and, for a DAV kind, its home set.
func propfindBody(kind Kind) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<d:propfind xmlns:d="DAV:" xmlns:c="` + nsCalDAV + `" xmlns:a="` + nsCardDAV + `"><d:prop><d:current-user-principal/>`)
	switch kind {
	case CalDAV:
		b.WriteString(`<c:calendar-home-set/>`)
	case CardDAV:
		b.WriteString(`<a:addressbook-home-set/>`)
	}
	b.WriteString(`</d:prop></d:propfind>`)
	return b.String()
}
