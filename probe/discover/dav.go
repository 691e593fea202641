package discover

import (
	"bytes"
	"encoding/xml"
	"strings"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// PublishedDAV is a calendar or contacts service that a config-v1.1
// document named, with the source that fetched it.
type PublishedDAV struct {
	Kind     autoconfig.DAVKind
	URL      string
	Username string
	Source   Source
}

// maxPublishedDAV bounds the services kept from one document.
const maxPublishedDAV = 8

// davElements reads the <calendar type="caldav"> and <addressBook
// type="carddav"> elements beside <emailProvider>, as the autoconfig
// draft's sample defines them (children url, username, authentication;
// /work/shared/reference/autoconfig-spec/autoconfig-sample.xml; the
// draft's RELAX NG schema spells the second "addressbook", so the name is
// matched without case). Thunderbird's own reader ignores both
// (comm-central mail/components/accountcreation/modules/readFromXML.sys.mjs
// reads emailProvider's incomingServer, outgoingServer and inputField
// only), so they serve the probe as hints to prove, never as settings on
// their own. body was already read and bounded by netx.ReadBody; a document
// the mail reader accepted is well-formed, and anything unexpected here
// only yields nothing.
func davElements(body []byte) []PublishedDAV {
	var doc struct {
		Elements []struct {
			XMLName  xml.Name
			Type     string `xml:"type,attr"`
			URL      string `xml:"url"`
			Username string `xml:"username"`
		} `xml:",any"`
	}
	if xml.NewDecoder(bytes.NewReader(body)).Decode(&doc) != nil {
		return nil
	}
	var out []PublishedDAV
	for _, e := range doc.Elements {
		var kind autoconfig.DAVKind
		switch {
		case strings.EqualFold(e.XMLName.Local, "calendar") && strings.EqualFold(e.Type, "caldav"):
			kind = autoconfig.CalDAV
		case strings.EqualFold(e.XMLName.Local, "addressbook") && strings.EqualFold(e.Type, "carddav"):
			kind = autoconfig.CardDAV
		default:
			continue
		}
		if len(out) == maxPublishedDAV {
			break
		}
		out = append(out, PublishedDAV{Kind: kind, URL: strings.TrimSpace(e.URL), Username: strings.TrimSpace(e.Username)})
	}
	return out
}
