package keyword

import (
	"unicode"
	"unicode/utf8"
)

// token is one word of a text: its byte range in the original text, its
// lower-cased form (a range of scanner.lower) and whether it lies inside a
// closed pair of quotation marks.
type token struct {
	start, end int // byte offsets in the original text
	lo, hi     int // byte offsets in scanner.lower
	quoted     bool
}

// scanner splits texts into words. It owns reusable buffers, so one scanner
// serves one goroutine; the zero value is ready to use.
type scanner struct {
	tokens []token
	lower  []byte
}

// word returns the lower-cased form of token i, sharing scanner memory.
// Callers use it only in comparisons and map look-ups, which do not copy.
func (s *scanner) word(i int) []byte {
	t := s.tokens[i]
	return s.lower[t.lo:t.hi]
}

// isWordRune reports whether r belongs to a word: letters, digits and
// combining marks (so that decomposed "é" stays one word).
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// isApostrophe reports whether r is written as an apostrophe: the ASCII
// one, the right single quotation mark that phones substitute, and the
// modifier letter apostrophe.
func isApostrophe(r rune) bool { return r == '\'' || r == '’' || r == 'ʼ' }

func decodeRune(text string, i int) (rune, int) {
	if c := text[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(text[i:])
}

// wordAt reports whether a word rune starts at byte offset i.
func wordAt(text string, i int) bool {
	if i >= len(text) {
		return false
	}
	r, _ := decodeRune(text, i)
	return isWordRune(r)
}

// tokenize splits text into words: maximal runs of letters and digits, with
// an apostrophe kept (normalised to ') when it has a word rune on both
// sides, so "don't" and "don’t" are the single word "don't". Everything
// else separates words. Words are lower-cased by simple case mapping.
//
// Words between a pair of double quotes ("…" or “…”) or single quotes
// ('…' or ‘…’) are marked quoted. A quote that is never closed marks
// nothing, so an elision like 'cause does not swallow the rest of a text.
func (s *scanner) tokenize(text string) {
	s.tokens = s.tokens[:0]
	s.lower = s.lower[:0]
	openDouble, openSingle := -1, -1 // index of the first token after an open quote
	for i := 0; i < len(text); {
		r, size := decodeRune(text, i)
		if isWordRune(r) {
			start, lo := i, len(s.lower)
			for i < len(text) {
				r, size = decodeRune(text, i)
				switch {
				case isWordRune(r):
					if r < utf8.RuneSelf {
						if 'A' <= r && r <= 'Z' {
							r += 'a' - 'A'
						}
						s.lower = append(s.lower, byte(r))
					} else {
						s.lower = utf8.AppendRune(s.lower, unicode.ToLower(r))
					}
				case isApostrophe(r) && wordAt(text, i+size):
					s.lower = append(s.lower, '\'')
				default:
					goto done
				}
				i += size
			}
		done:
			s.tokens = append(s.tokens, token{start: start, end: i, lo: lo, hi: len(s.lower)})
			continue
		}
		switch {
		case r == '"':
			if openDouble >= 0 {
				s.markQuoted(openDouble)
				openDouble = -1
			} else {
				openDouble = len(s.tokens)
			}
		case r == '“':
			openDouble = len(s.tokens)
		case r == '”':
			if openDouble >= 0 {
				s.markQuoted(openDouble)
				openDouble = -1
			}
		case r == '\'' || r == '‘' || r == '’':
			// Inside-word apostrophes were consumed above. Here a quote
			// closes an open single quote, or opens one when it starts a
			// word (preceded by a non-word and followed by a word).
			prevWord := i > 0 && len(s.tokens) > 0 && s.tokens[len(s.tokens)-1].end == i
			switch {
			case openSingle >= 0 && prevWord:
				s.markQuoted(openSingle)
				openSingle = -1
			case openSingle < 0 && !prevWord && wordAt(text, i+size):
				openSingle = len(s.tokens)
			}
		}
		i += size
	}
}

func (s *scanner) markQuoted(from int) {
	for j := from; j < len(s.tokens); j++ {
		s.tokens[j].quoted = true
	}
}

// words splits a phrase from the rules file the same way as message text,
// returning its lower-cased words.
func words(phrase string) []string {
	var s scanner
	s.tokenize(phrase)
	out := make([]string, len(s.tokens))
	for i := range s.tokens {
		out[i] = string(s.word(i))
	}
	return out
}
