package server

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// site holds one domain's answers, computed when the configuration is loaded
// so that serving a request is little more than a map lookup and a write.
type site struct {
	domain   autoconfig.Domain
	provider *autoconfig.Provider
	// primary is the domain an alias's addresses are redirected to in
	// Autodiscover (redirectAddr); nil for a configured domain itself.
	primary *site
	// autoconfigXML is the config-v1.1 document with its placeholders kept:
	// the client fills them, so one document serves every address.
	autoconfigXML []byte
	// autodiscover is the POX settings response cut where the address's
	// local part goes.
	autodiscover splitTemplate
}

// localPartMark stands for the local part while the Autodiscover response is
// precomputed. It is plain ASCII, so XML escaping leaves it as it is.
const localPartMark = "MAILSETUPLOCALPARTMARK7f3a"

func newSite(d autoconfig.Domain, p *autoconfig.Provider, primary *site) (*site, error) {
	s := &site{domain: d, provider: p, primary: primary}
	var buf bytes.Buffer
	if err := autoconfig.WriteConfig(&buf, p); err != nil {
		return nil, err
	}
	s.autoconfigXML = buf.Bytes()
	if primary == nil {
		mark := autoconfig.Address{LocalPart: localPartMark, Domain: d.ASCII, DomainUnicode: d.Unicode}
		buf = bytes.Buffer{}
		if _, err := autoconfig.NewAutodiscoverResponse(p, mark).WriteTo(&buf); err != nil {
			return nil, err
		}
		s.autodiscover = splitTemplate(bytes.Split(buf.Bytes(), []byte(localPartMark)))
	}
	return s, nil
}

// splitTemplate is a document cut at each place a value goes.
type splitTemplate [][]byte

// writeTo writes the document with value, XML-escaped, in each place.
func (t splitTemplate) writeTo(w io.Writer, value string) error {
	escaped := []byte(value)
	if strings.ContainsAny(value, "&<>\"'\t\n\r") || !utf8.ValidString(value) {
		var buf bytes.Buffer
		if err := xml.EscapeText(&buf, escaped); err != nil {
			return fmt.Errorf("escaping %q: %w", value, err)
		}
		escaped = buf.Bytes()
	}
	for i, part := range t {
		if i > 0 {
			if _, err := w.Write(escaped); err != nil {
				return err
			}
		}
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}
