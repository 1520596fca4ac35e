package graph

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// capped is a JSON string cut while it was read: Kept is its first
// characters, Omitted how many more there were.
type capped struct {
	Kept    string
	Omitted int
}

// MarshalJSON gives the kept part, so a tree holding capped strings can be
// re-encoded.
func (c capped) MarshalJSON() ([]byte, error) { return json.Marshal(c.Kept) }

// maxDepth bounds nesting, so a hostile answer cannot exhaust the stack.
const maxDepth = 64

// maxAnswer bounds what one decoded Graph answer may hold in memory: a
// page of 1000 messages with the narrow $select is a few megabytes, a
// batch of twenty bodies cut to the note limit a few more. An answer
// holding more is refused with errTooLarge rather than read on. A
// variable so that tests can lower it.
var maxAnswer int64 = 64 << 20

// errTooLarge is the error of an answer that holds more than maxAnswer.
var errTooLarge = errors.New("the answer is larger than Mail Sync reads")

// valueCost is what a decoded value costs besides its text: the map or
// slice entry and the interface that holds it.
const valueCost = 16

// readAnswer reads a whole answer of at most maxAnswer bytes.
func readAnswer(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxAnswer+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > maxAnswer {
		return nil, errTooLarge
	}
	return data, nil
}

// decodeCapped reads one JSON value from r into the shapes encoding/json
// gives for any (map[string]any, []any, float64 as json.Number, bool, nil,
// string), except that a string longer than maxChars characters is read to
// its end but kept only in part, as a capped. With maxChars <= 0 nothing
// is cut. Memory stays bounded by the cut strings, however long the answer:
// a batch of twenty 5 MB bodies never sits in memory whole. What is kept
// (text and values) is bounded by maxAnswer: past it, errTooLarge.
func decodeCapped(r io.Reader, maxChars int) (any, error) {
	d := &cappedDecoder{r: bufio.NewReaderSize(r, 32<<10), max: maxChars, left: maxAnswer}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if b, err := d.skipSpace(); err == nil {
		return nil, fmt.Errorf("json: unexpected %q after the value", b)
	} else if !errors.Is(err, io.EOF) {
		return nil, err
	}
	return v, nil
}

type cappedDecoder struct {
	r   *bufio.Reader
	max int
	// left is how many more bytes the decoded tree may hold.
	left int64
}

// keep counts n more bytes held, failing past maxAnswer.
func (d *cappedDecoder) keep(n int) error {
	d.left -= int64(n) + valueCost
	if d.left < 0 {
		return errTooLarge
	}
	return nil
}

func (d *cappedDecoder) skipSpace() (byte, error) {
	for {
		b, err := d.r.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return b, nil
	}
}

func eofIsUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (d *cappedDecoder) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("json: nested too deeply")
	}
	if err := d.keep(0); err != nil {
		return nil, err
	}
	b, err := d.skipSpace()
	if err != nil {
		return nil, eofIsUnexpected(err)
	}
	switch {
	case b == '{':
		return d.object(depth)
	case b == '[':
		return d.array(depth)
	case b == '"':
		return d.str()
	case b == 't':
		return true, d.literal("rue")
	case b == 'f':
		return false, d.literal("alse")
	case b == 'n':
		return nil, d.literal("ull")
	case b == '-' || (b >= '0' && b <= '9'):
		return d.number(b)
	}
	return nil, fmt.Errorf("json: unexpected %q", b)
}

func (d *cappedDecoder) literal(rest string) error {
	for i := range len(rest) {
		b, err := d.r.ReadByte()
		if err != nil {
			return eofIsUnexpected(err)
		}
		if b != rest[i] {
			return fmt.Errorf("json: unexpected %q in a literal", b)
		}
	}
	return nil
}

func (d *cappedDecoder) number(first byte) (any, error) {
	var sb strings.Builder
	sb.WriteByte(first)
	for {
		b, err := d.r.ReadByte()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if (b >= '0' && b <= '9') || b == '.' || b == 'e' || b == 'E' || b == '+' || b == '-' {
			if sb.Len() > 64 {
				return nil, errors.New("json: number too long")
			}
			sb.WriteByte(b)
			continue
		}
		_ = d.r.UnreadByte()
		break
	}
	n := json.Number(sb.String())
	if _, err := strconv.ParseFloat(string(n), 64); err != nil {
		return nil, fmt.Errorf("json: bad number %q", sb.String())
	}
	return n, nil
}

func (d *cappedDecoder) object(depth int) (any, error) {
	m := map[string]any{}
	b, err := d.skipSpace()
	if err != nil {
		return nil, eofIsUnexpected(err)
	}
	if b == '}' {
		return m, nil
	}
	for {
		if b != '"' {
			return nil, fmt.Errorf("json: object key expected, got %q", b)
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		key, ok := k.(string)
		if !ok {
			key = k.(capped).Kept
		}
		if b, err = d.skipSpace(); err != nil {
			return nil, eofIsUnexpected(err)
		}
		if b != ':' {
			return nil, fmt.Errorf("json: ':' expected, got %q", b)
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[key] = v
		if b, err = d.skipSpace(); err != nil {
			return nil, eofIsUnexpected(err)
		}
		switch b {
		case '}':
			return m, nil
		case ',':
			if b, err = d.skipSpace(); err != nil {
				return nil, eofIsUnexpected(err)
			}
		default:
			return nil, fmt.Errorf("json: ',' or '}' expected, got %q", b)
		}
	}
}

func (d *cappedDecoder) array(depth int) (any, error) {
	a := []any{}
	b, err := d.skipSpace()
	if err != nil {
		return nil, eofIsUnexpected(err)
	}
	if b == ']' {
		return a, nil
	}
	_ = d.r.UnreadByte()
	for {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		if b, err = d.skipSpace(); err != nil {
			return nil, eofIsUnexpected(err)
		}
		switch b {
		case ']':
			return a, nil
		case ',':
		default:
			return nil, fmt.Errorf("json: ',' or ']' expected, got %q", b)
		}
	}
}

// str reads a string after its opening quote: a string, or a capped when
// it had more than d.max characters.
func (d *cappedDecoder) str() (any, error) {
	var sb strings.Builder
	kept, omitted := 0, 0
	var over error
	add := func(r rune) {
		if d.max <= 0 || kept < d.max {
			sb.WriteRune(r)
			kept++
			if sb.Len()&0xfff == 0 && int64(sb.Len()) > d.left {
				over = errTooLarge
			}
			return
		}
		omitted++
	}
	for {
		b, err := d.r.ReadByte()
		if err != nil {
			return nil, eofIsUnexpected(err)
		}
		if over != nil {
			return nil, over
		}
		switch {
		case b == '"':
			if err := d.keep(sb.Len()); err != nil {
				return nil, err
			}
			if omitted > 0 {
				return capped{Kept: sb.String(), Omitted: omitted}, nil
			}
			return sb.String(), nil
		case b == '\\':
			if err := d.escape(add); err != nil {
				return nil, err
			}
		case b < 0x20:
			return nil, errors.New("json: control character in a string")
		case b < utf8.RuneSelf:
			add(rune(b))
		default:
			_ = d.r.UnreadByte()
			r, size, err := d.r.ReadRune()
			if err != nil {
				return nil, eofIsUnexpected(err)
			}
			if r == utf8.RuneError && size == 1 {
				r = utf8.RuneError // invalid UTF-8 becomes U+FFFD, as encoding/json does
			}
			add(r)
		}
	}
}

// escape reads an escape after its backslash and adds what it stands for.
func (d *cappedDecoder) escape(add func(rune)) error {
	b, err := d.r.ReadByte()
	if err != nil {
		return eofIsUnexpected(err)
	}
	switch b {
	case '"', '\\', '/':
		add(rune(b))
	case 'b':
		add('\b')
	case 'f':
		add('\f')
	case 'n':
		add('\n')
	case 'r':
		add('\r')
	case 't':
		add('\t')
	case 'u':
		r, err := d.hex4()
		if err != nil {
			return err
		}
		for utf16.IsSurrogate(r) {
			// A surrogate pair is two escapes; a lone half is U+FFFD, as
			// encoding/json reads it.
			next, err := d.r.Peek(2)
			if err != nil || next[0] != '\\' || next[1] != 'u' {
				add(utf8.RuneError)
				return nil
			}
			_, _ = d.r.Discard(2)
			r2, err := d.hex4()
			if err != nil {
				return err
			}
			if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
				add(dec)
				return nil
			}
			add(utf8.RuneError)
			r = r2
		}
		add(r)
	default:
		return fmt.Errorf("json: bad escape \\%c", b)
	}
	return nil
}

func (d *cappedDecoder) hex4() (rune, error) {
	var r rune
	for range 4 {
		b, err := d.r.ReadByte()
		if err != nil {
			return 0, eofIsUnexpected(err)
		}
		var v byte
		switch {
		case b >= '0' && b <= '9':
			v = b - '0'
		case b >= 'a' && b <= 'f':
			v = b - 'a' + 10
		case b >= 'A' && b <= 'F':
			v = b - 'A' + 10
		default:
			return 0, fmt.Errorf("json: bad \\u escape")
		}
		r = r<<4 | rune(v)
	}
	return r, nil
}
