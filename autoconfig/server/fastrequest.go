package server

import (
	"bytes"
	"strings"
)

// readAutodiscoverRequestFast reads the address and the response schema from
// an Autodiscover request written the way Outlook writes it: ASCII, no
// entity or character references, comments, CDATA, DOCTYPE or namespace
// prefixes. It makes one pass and builds no tree, which is most of the time
// a request takes with encoding/xml. ok is false for anything else, and for
// anything the full reader (autoconfig.ReadAutodiscoverRequest) would refuse:
// the caller then uses that reader. FuzzAutodiscoverRequestFast checks that
// whenever ok is true the full reader returns the same address and schema.
func readAutodiscoverRequestFast(body []byte) (email, schema string, ok bool) {
	for _, c := range body {
		if c >= 0x80 || c == '&' || c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return "", "", false
		}
	}
	if bytes.Contains(body, []byte("]]>")) {
		return "", "", false
	}
	b := skipSpace(body)
	for _, decl := range xmlDeclarations {
		if bytes.HasPrefix(b, decl) {
			b = b[len(decl):]
			break
		}
	}
	const maxDepth, maxElements = 8, 64
	var (
		stack        [maxDepth][]byte
		depth        int
		elements     int
		rootSeen     bool
		inRequest    bool // inside the root's first <Request>
		requestSeen  bool
		emailSeen    bool
		schemaSeen   bool
		capture      *[]byte // direct text of the element being captured
		captureDepth int
		emailText    []byte
		schemaText   []byte
	)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '<')
		text := b
		if i >= 0 {
			text = b[:i]
		}
		if depth == 0 && len(skipSpace(text)) > 0 {
			return "", "", false
		}
		if capture != nil && depth == captureDepth {
			*capture = append(*capture, text...)
		}
		if i < 0 {
			break
		}
		b = b[i+1:]
		if len(b) > 0 && b[0] == '/' {
			name, rest := scanName(b[1:])
			rest = skipSpace(rest)
			if len(rest) == 0 || rest[0] != '>' || depth == 0 || !bytes.Equal(stack[depth-1], name) {
				return "", "", false
			}
			if depth == captureDepth {
				capture = nil
			}
			if depth == 2 && inRequest {
				inRequest = false
			}
			depth--
			b = rest[1:]
			continue
		}
		name, rest := scanName(b)
		if len(name) == 0 {
			return "", "", false
		}
		empty := false
		for {
			trimmed := skipSpace(rest)
			spaced := len(trimmed) < len(rest)
			rest = trimmed
			if len(rest) == 0 {
				return "", "", false
			}
			if rest[0] == '>' {
				rest = rest[1:]
				break
			}
			if rest[0] == '/' {
				if len(rest) < 2 || rest[1] != '>' {
					return "", "", false
				}
				rest, empty = rest[2:], true
				break
			}
			var attr []byte
			if attr, rest = scanName(rest); len(attr) == 0 || !spaced {
				return "", "", false
			}
			rest = skipSpace(rest)
			if len(rest) == 0 || rest[0] != '=' {
				return "", "", false
			}
			rest = skipSpace(rest[1:])
			if len(rest) == 0 || rest[0] != '"' && rest[0] != '\'' {
				return "", "", false
			}
			end := bytes.IndexByte(rest[1:], rest[0])
			if end < 0 || bytes.IndexByte(rest[1:1+end], '<') >= 0 {
				return "", "", false
			}
			rest = rest[end+2:]
		}
		b = rest
		elements++
		if elements > maxElements || depth == 0 && rootSeen {
			return "", "", false
		}
		switch {
		case depth == 0:
			rootSeen = true
			if string(name) != "Autodiscover" {
				return "", "", false
			}
		case depth == 1 && !requestSeen && string(name) == "Request":
			requestSeen, inRequest = true, !empty
		case depth == 2 && inRequest && !emailSeen && string(name) == "EMailAddress":
			emailSeen = true
			if !empty {
				capture, captureDepth = &emailText, depth+1
			}
		case depth == 2 && inRequest && !schemaSeen && string(name) == "AcceptableResponseSchema":
			schemaSeen = true
			if !empty {
				capture, captureDepth = &schemaText, depth+1
			}
		}
		if !empty {
			if depth == maxDepth {
				return "", "", false
			}
			stack[depth] = name
			depth++
		}
	}
	if depth != 0 || !requestSeen {
		return "", "", false
	}
	email, schema = xmlText(emailText), xmlText(schemaText)
	return email, schema, email != ""
}

// xmlDeclarations are the declarations accepted on the fast path.
var xmlDeclarations = [][]byte{
	[]byte(`<?xml version="1.0" encoding="utf-8"?>`),
	[]byte(`<?xml version="1.0" encoding="UTF-8"?>`),
	[]byte(`<?xml version="1.0"?>`),
}

// xmlText is character data as an XML parser reports it: line ends
// normalised to "\n" (XML 1.0 §2.11), then trimmed like the full reader does.
func xmlText(b []byte) string {
	s := string(b)
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	}
	return strings.TrimSpace(s)
}

func skipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// scanName reads an XML name made of ASCII letters, digits, '_', '-' and
// '.', starting with a letter or '_' (a subset of XML names, without ':').
func scanName(b []byte) (name, rest []byte) {
	i := 0
	for i < len(b) {
		c := b[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '-' || c == '.')) {
			break
		}
		i++
	}
	return b[:i], b[i:]
}
