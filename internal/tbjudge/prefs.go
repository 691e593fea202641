package tbjudge

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// ParsePrefs reads a Thunderbird/Gecko prefs file (prefs.js, user.js) the way
// Gecko's own parser does (mozilla-central modules/libpref/parser/src/lib.rs,
// whose header comment gives the grammar), but strictly: where Gecko reports
// a syntax error and skips to the next ";" (so that a broken line can turn
// the rest of it into prefs), ParsePrefs fails. Values are string (the raw
// bytes Gecko stores: \xNN is one byte, \uNNNN is UTF-8), int64 or bool;
// a later definition of a name replaces an earlier one, as in Gecko.
func ParsePrefs(data []byte) (map[string]any, error) {
	p := prefParser{buf: data, line: 1}
	out := map[string]any{}
	for {
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		if tok.kind == tokEOF {
			return out, nil
		}
		if tok.kind != tokWord || (tok.text != "user_pref" && tok.text != "pref" && tok.text != "sticky_pref" && tok.text != "lockPref") {
			return nil, p.errorf("expected pref specifier, got %q", tok.text)
		}
		if err := p.expect('('); err != nil {
			return nil, err
		}
		name, err := p.token()
		if err != nil {
			return nil, err
		}
		if name.kind != tokString {
			return nil, p.errorf("expected pref name after '('")
		}
		if err := p.expect(','); err != nil {
			return nil, err
		}
		v, err := p.token()
		if err != nil {
			return nil, err
		}
		var value any
		switch {
		case v.kind == tokString:
			value = v.text
		case v.kind == tokWord && v.text == "true":
			value = true
		case v.kind == tokWord && v.text == "false":
			value = false
		case v.kind == tokInt:
			value = v.n
		case v.kind == tokChar && (v.text == "-" || v.text == "+"):
			n, err := p.token()
			if err != nil {
				return nil, err
			}
			if n.kind != tokInt {
				return nil, p.errorf("expected integer literal after %q", v.text)
			}
			if v.text == "-" {
				value = -n.n
			} else {
				value = n.n
			}
		default:
			return nil, p.errorf("expected pref value after ','")
		}
		if i, ok := value.(int64); ok && (i < -1<<31 || i > 1<<31-1) {
			return nil, p.errorf("integer literal overflowed")
		}
		if err := p.expect(')'); err != nil {
			return nil, err
		}
		if err := p.expect(';'); err != nil {
			return nil, err
		}
		out[name.text] = value
	}
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokChar
	tokWord
	tokString
	tokInt
)

type prefToken struct {
	kind tokKind
	text string
	n    int64
}

type prefParser struct {
	buf  []byte
	i    int
	line int
}

func (p *prefParser) errorf(format string, args ...any) error {
	return fmt.Errorf("prefs line %d: %s", p.line, fmt.Sprintf(format, args...))
}

func (p *prefParser) expect(c byte) error {
	t, err := p.token()
	if err != nil {
		return err
	}
	if t.kind != tokChar || t.text != string(c) {
		return p.errorf("expected %q, got %q", c, t.text)
	}
	return nil
}

// next returns the next byte, 0 at the end: Gecko treats a NUL byte as the
// end of the file.
func (p *prefParser) next() byte {
	if p.i >= len(p.buf) {
		p.i++
		return 0
	}
	c := p.buf[p.i]
	p.i++
	return c
}

func (p *prefParser) peek() byte {
	if p.i >= len(p.buf) {
		return 0
	}
	return p.buf[p.i]
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func (p *prefParser) lineComment() {
	for {
		switch p.next() {
		case '\n':
			p.line++
			return
		case '\r':
			p.line++
			if p.peek() == '\n' {
				p.i++
			}
			return
		case 0:
			p.i--
			return
		}
	}
}

func (p *prefParser) token() (prefToken, error) {
	for {
		c := p.next()
		switch {
		case c == 0:
			return prefToken{kind: tokEOF}, nil
		case c == '\n':
			p.line++
		case c == '\r':
			p.line++
			if p.peek() == '\n' {
				p.i++
			}
		case c == ' ' || c == '\t' || c == '\v' || c == '\f':
		case c == '#':
			p.lineComment()
		case c == '/':
			switch p.next() {
			case '/':
				p.lineComment()
			case '*':
				for {
					d := p.next()
					if d == 0 {
						return prefToken{}, p.errorf("unterminated /* comment")
					}
					if d == '\n' {
						p.line++
					}
					if d == '*' && p.peek() == '/' {
						p.i++
						break
					}
				}
			default:
				return prefToken{}, p.errorf("expected '/' or '*' after '/'")
			}
		case c == '(' || c == ')' || c == ',' || c == ';' || c == '+' || c == '-':
			return prefToken{kind: tokChar, text: string(c)}, nil
		case isWordByte(c):
			start := p.i - 1
			for isWordByte(p.peek()) {
				p.i++
			}
			w := string(p.buf[start:p.i])
			switch w {
			case "pref", "true", "false", "user_pref", "sticky", "locked", "sticky_pref", "lockPref":
				return prefToken{kind: tokWord, text: w}, nil
			}
			return prefToken{}, p.errorf("unknown keyword %q", w)
		case c >= '0' && c <= '9':
			start := p.i - 1
			for d := p.peek(); d >= '0' && d <= '9'; d = p.peek() {
				p.i++
			}
			if isWordByte(p.peek()) {
				return prefToken{}, p.errorf("unexpected character in integer literal")
			}
			n, err := strconv.ParseInt(string(p.buf[start:p.i]), 10, 64)
			if err != nil || n > 1<<31 {
				return prefToken{}, p.errorf("integer literal overflowed")
			}
			return prefToken{kind: tokInt, n: n}, nil
		case c == '"' || c == '\'':
			return p.str(c)
		default:
			return prefToken{}, p.errorf("unexpected character %q", c)
		}
	}
}

func (p *prefParser) hex(n int) (int, bool) {
	if p.i+n > len(p.buf) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(p.buf[p.i:p.i+n]), 16, 16)
	if err != nil {
		return 0, false
	}
	p.i += n
	return int(v), true
}

func (p *prefParser) str(quote byte) (prefToken, error) {
	var b []byte
	for {
		c := p.next()
		switch {
		case c == quote:
			return prefToken{kind: tokString, text: string(b)}, nil
		case c == 0:
			return prefToken{}, p.errorf("unterminated string literal")
		case c == '\n':
			p.line++
			b = append(b, c)
		case c != '\\':
			b = append(b, c)
		default:
			switch e := p.next(); e {
			case '"', '\'', '\\':
				b = append(b, e)
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 'x':
				v, ok := p.hex(2)
				if !ok || v == 0 {
					return prefToken{}, p.errorf("malformed or NUL \\x escape")
				}
				b = append(b, byte(v))
			case 'u':
				v, ok := p.hex(4)
				if !ok || v == 0 {
					return prefToken{}, p.errorf("malformed or NUL \\u escape")
				}
				r := rune(v)
				switch {
				case utf16.IsSurrogate(r) && v < 0xdc00:
					if p.next() != '\\' || p.next() != 'u' {
						return prefToken{}, p.errorf("expected low surrogate after high surrogate")
					}
					lo, ok := p.hex(4)
					if !ok || lo < 0xdc00 || lo > 0xdfff {
						return prefToken{}, p.errorf("invalid low surrogate after high surrogate")
					}
					r = utf16.DecodeRune(r, rune(lo))
				case utf16.IsSurrogate(r):
					return prefToken{}, p.errorf("expected high surrogate before low surrogate")
				}
				b = utf8.AppendRune(b, r)
			default:
				return prefToken{}, p.errorf("unexpected escape sequence character %q after '\\'", e)
			}
		}
	}
}
