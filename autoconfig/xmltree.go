package autoconfig

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/net/html/charset"
)

// Bounds on what a reader accepts from the network or a file: a config is a
// few kilobytes, so anything far larger or deeper is hostile.
const (
	MaxDocumentSize = 1 << 20
	maxDepth        = 32
	maxElements     = 20000
)

// ErrMalformed is wrapped by every error about a document that cannot be
// used at all.
var ErrMalformed = errors.New("autoconfig: malformed document")

// ParseError says where in a document reading failed.
type ParseError struct {
	Line    int
	Element string // the element being read, without brackets; "" for the document
	Msg     string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Element != "" {
		fmt.Fprintf(&b, "<%s>: ", e.Element)
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *ParseError) Unwrap() error { return ErrMalformed }

// element is one node of a small DOM that remembers line numbers, so that
// every finding can point at the line a person has to fix.
type element struct {
	Name     string // local name; namespaces are matched leniently, as clients do
	Attrs    []xml.Attr
	Text     string
	Children []*element
	Line     int
}

func (e *element) attr(name string) (string, bool) {
	for _, a := range e.Attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

func (e *element) child(name string) *element {
	for _, c := range e.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (e *element) childText(name string) string {
	if c := e.child(name); c != nil {
		return c.text()
	}
	return ""
}

func (e *element) text() string { return strings.TrimSpace(e.Text) }

// readTree parses a bounded document into an element tree. It rejects DTDs:
// no mail client needs one, and they carry entity-expansion bombs.
func readTree(r io.Reader) (*element, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxDocumentSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxDocumentSize {
		return nil, &ParseError{Msg: fmt.Sprintf("document is larger than %d bytes; a mail configuration is a few kilobytes", MaxDocumentSize)}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = charset.NewReaderLabel
	var (
		root  *element
		stack []*element
		count int
	)
	for {
		line, _ := d.InputPos()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &ParseError{Line: syntaxLine(err, line), Msg: "not well-formed XML: " + syntaxMsg(err)}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			count++
			if count > maxElements {
				return nil, &ParseError{Line: line, Msg: fmt.Sprintf("more than %d elements", maxElements)}
			}
			if len(stack) >= maxDepth {
				return nil, &ParseError{Line: line, Element: t.Name.Local, Msg: fmt.Sprintf("nested deeper than %d levels", maxDepth)}
			}
			el := &element{Name: t.Name.Local, Attrs: t.Attr, Line: line}
			if len(stack) == 0 {
				if root != nil {
					return nil, &ParseError{Line: line, Element: t.Name.Local, Msg: "a second root element"}
				}
				root = el
			} else {
				parent := stack[len(stack)-1]
				parent.Children = append(parent.Children, el)
			}
			stack = append(stack, el)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			}
		case xml.Directive:
			if bytes.HasPrefix(bytes.TrimSpace(t), []byte("DOCTYPE")) {
				return nil, &ParseError{Line: line, Msg: "a DOCTYPE is not allowed: mail configuration files have none, and DTD entities are a known attack"}
			}
		}
	}
	if root == nil {
		return nil, &ParseError{Msg: "the document is empty"}
	}
	return root, nil
}

func syntaxLine(err error, fallback int) int {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return se.Line
	}
	return fallback
}

func syntaxMsg(err error) string {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return se.Msg
	}
	return err.Error()
}
