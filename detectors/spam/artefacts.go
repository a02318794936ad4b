package spam

import (
	"strings"
)

// Artefacts are what a campaign must repeat however it words its message:
// the wallet that receives the money, the phone number or handle to
// contact, the link to click. The detector finds them in the original
// text and forwards one fingerprint record per artefact to the
// spam-fingerprint stage, keyed "a:<16 hex digits>" and with the
// artefact's hash as the fingerprint, so that every message carrying the
// same artefact is a near-duplicate of the others in that bucket: a
// paraphrased campaign reaches the content fan-out levels through the
// artefact it shares, with no new stage or state.
//
// Recognised, on the original text (no normal form: case and digits
// matter):
//   - crypto addresses: Ethereum-style 0x and 40 hex digits; Bitcoin
//     bech32 (bc1…, 14 to 74 characters) and base58 (1… or 3…, 26 to 35
//     characters, letters and digits); Tron (T…, 34 base58 characters);
//   - phone numbers: 9 to 15 digits with spaces, dots, dashes, brackets
//     and a leading +, read as their last 9 digits (so "+44 7700 900123"
//     and "07700 900123" are one number);
//   - handles: @name of 3 to 32 letters, digits, dots and underscores, not
//     inside an e-mail address; t.me/name and wa.me/number;
//   - payment tags: $name (Cash App's $cashtag), a letter then 2 to 19
//     letters, digits, dashes or underscores ("$100" is a sum, not a tag);
//   - links: the host and path of anything with a scheme or "www.", lower
//     case, without the scheme, "www." and trailing punctuation.
//
// At most maxArtefacts per message, the first found.
const maxArtefacts = 3

// Artefact kinds, hashed with the canonical form so that a handle and a
// link that spell alike stay apart.
const (
	artWallet byte = 'w'
	artPhone  byte = 'p'
	artHandle byte = 'h'
	artLink   byte = 'l'
	artTag    byte = 't'
)

// artefactKey is the spam-fingerprint key of an artefact's bucket.
func artefactKey(h uint64) string {
	const digits = "0123456789abcdef"
	var b [18]byte
	b[0], b[1] = 'a', ':'
	for i := range 16 {
		b[2+i] = digits[h>>(60-4*i)&15]
	}
	return string(b[:])
}

// hashArtefact is FNV-1a 64 of the kind and the canonical form, lower
// case when fold is set.
func hashArtefact(kind byte, s string, fold bool) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	h = (h ^ uint64(kind)) * prime
	for i := 0; i < len(s); i++ {
		c := s[i]
		if fold && c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		h = (h ^ uint64(c)) * prime
	}
	return h
}

// scanArtefacts appends the hashes of the artefacts in s to out (at most
// maxArtefacts, no repeats). It does not allocate once out has room.
func scanArtefacts(s string, out []uint64) []uint64 {
	if !mayHoldArtefact(s) {
		return out // most chat: one pass over the bytes
	}
	add := func(h uint64) {
		for _, x := range out {
			if x == h {
				return
			}
		}
		if len(out) < maxArtefacts {
			out = append(out, h)
		}
	}
	for i := 0; i < len(s) && len(out) < maxArtefacts; {
		// The token: up to the next space.
		j := i
		for j < len(s) && !isSpace(s[j]) {
			j++
		}
		a, b := i, j
		for b > a && strings.IndexByte(".,;:!?)]}'\"", s[b-1]) >= 0 {
			b--
		}
		for a < b && strings.IndexByte("([{'\"", s[a]) >= 0 {
			a++
		}
		tok := s[a:b]
		switch {
		case tok == "":
		case isWallet(tok):
			add(hashArtefact(artWallet, tok, strings.HasPrefix(tok, "0x") || strings.HasPrefix(tok, "bc1")))
		case tok[0] == '@' && isHandle(tok[1:]):
			add(hashArtefact(artHandle, tok[1:], true))
		case tok[0] == '$' && isCashtag(tok[1:]):
			add(hashArtefact(artTag, tok[1:], true))
		default:
			if rest, ok := cutPrefixFold(tok, "https://", "http://", "hxxps://", "hxxp://"); ok || hasPrefixFold(tok, "www.") || hasPrefixFold(tok, "t.me/") || hasPrefixFold(tok, "wa.me/") {
				if !ok {
					rest = tok
				}
				if r, ok := cutPrefixFold(rest, "www."); ok {
					rest = r
				}
				rest = strings.TrimRight(rest, "/")
				switch {
				case hasPrefixFold(rest, "t.me/") && isHandle(rest[5:]):
					add(hashArtefact(artHandle, rest[5:], true))
				case hasPrefixFold(rest, "wa.me/"):
					if p, ok := phoneDigits(rest[6:]); ok {
						add(hashArtefact(artPhone, p, false))
					}
				case strings.IndexByte(rest, '.') > 0:
					add(hashArtefact(artLink, rest, true))
				}
			}
		}
		// Phone numbers span tokens: read from each digit or + that starts
		// a token.
		if i < len(s) && (s[i] == '+' || s[i] == '(' || isDigit(s[i])) {
			if p, end, ok := phoneAt(s, i); ok {
				add(hashArtefact(artPhone, p, false))
				j = max(j, end)
			}
		}
		i = j
		for i < len(s) && isSpace(s[i]) {
			i++
		}
	}
	return out
}

// mayHoldArtefact reports whether s has what every artefact needs: an @ or
// a / (handles, links), a $ before a letter (payment tags), 9 digits (phone numbers), "0x", "www" or a run of
// 14 letters and digits (wallets).
func mayHoldArtefact(s string) bool {
	digits, run := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '@' || c == '/':
			return true
		case c == '$' && i+1 < len(s) && (s[i+1]|0x20 >= 'a' && s[i+1]|0x20 <= 'z'):
			return true
		case isDigit(c):
			digits++
			run++
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			run++
			if (c == 'x' || c == 'X') && i > 0 && s[i-1] == '0' || (c == 'w' || c == 'W') && i >= 2 && s[i-1]|0x20 == 'w' && s[i-2]|0x20 == 'w' {
				return true
			}
		default:
			run = 0
		}
		if digits >= 9 || run >= 14 {
			return true
		}
	}
	return false
}

func isSpace(c byte) bool  { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isHexDig(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isBase58(c byte) bool {
	return isDigit(c) && c != '0' || c >= 'A' && c <= 'Z' && c != 'I' && c != 'O' || c >= 'a' && c <= 'z' && c != 'l'
}

// isWallet reports whether tok is a crypto address of a known shape.
func isWallet(tok string) bool {
	switch n := len(tok); {
	case n == 42 && (tok[:2] == "0x" || tok[:2] == "0X"):
		for i := 2; i < n; i++ {
			if !isHexDig(tok[i]) {
				return false
			}
		}
		return true
	case n >= 14 && n <= 74 && hasPrefixFold(tok, "bc1"):
		for i := 3; i < n; i++ {
			if c := tok[i] | 0x20; !(isDigit(tok[i]) || c >= 'a' && c <= 'z') {
				return false
			}
		}
		return true
	case (tok[0] == '1' || tok[0] == '3') && n >= 26 && n <= 35, tok[0] == 'T' && n == 34:
		letters, digits := 0, 0
		for i := range n {
			c := tok[i]
			if !isBase58(c) {
				return false
			}
			if isDigit(c) {
				digits++
			} else {
				letters++
			}
		}
		return letters >= 5 && digits >= 2
	}
	return false
}

// isCashtag reports whether s (after the $) is a payment tag: a letter,
// then 2 to 19 letters, digits, dashes or underscores.
func isCashtag(s string) bool {
	if len(s) < 3 || len(s) > 20 || !(s[0]|0x20 >= 'a' && s[0]|0x20 <= 'z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c|0x20 >= 'a' && c|0x20 <= 'z' || isDigit(c) || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func isHandle(s string) bool {
	if len(s) < 3 || len(s) > 32 {
		return false
	}
	letters := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			letters++
		case isDigit(c), c == '_', c == '.' && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return letters > 0
}

// phoneAt reads a phone number starting at s[i]: digits with single
// separators between groups, 9 to 15 digits in all. It returns the last 9
// digits and the end of the number.
func phoneAt(s string, i int) (string, int, bool) {
	var d [15]byte
	n, k := 0, i
	if s[k] == '+' {
		k++
	}
	sep := true // a separator may not start or repeat
	for k < len(s) {
		c := s[k]
		switch {
		case isDigit(c):
			if n == len(d) {
				return "", 0, false // too long: an id or an amount
			}
			d[n] = c
			n++
			sep = false
		case (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') && !sep:
			sep = c != ')'
		case c == '(' && k == i:
		default:
			goto done
		}
		k++
	}
done:
	for k > i && !isDigit(s[k-1]) {
		k--
	}
	if n < 9 || k < len(s) && (s[k] >= 'a' && s[k] <= 'z' || s[k] >= 'A' && s[k] <= 'Z') {
		return "", 0, false
	}
	return string(d[n-9 : n]), k, true
}

// phoneDigits reads a wa.me number: digits only.
func phoneDigits(s string) (string, bool) {
	p, end, ok := phoneAt(s, 0)
	return p, ok && end == len(s)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func cutPrefixFold(s string, prefixes ...string) (string, bool) {
	for _, p := range prefixes {
		if hasPrefixFold(s, p) {
			return s[len(p):], true
		}
	}
	return s, false
}
