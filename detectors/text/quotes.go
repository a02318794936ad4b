package text

import (
	"unicode"
	"unicode/utf8"
)

// quote kinds tracked independently, so that one kind may nest in another.
const (
	qDouble    = iota // "…"
	qCurly            // “…” (and ”…” as used in Swedish)
	qLow              // „…“ and „…”
	qGuillemet        // «…» and ‹…›
	qCJK              // 「…」 and 『…』
	qSingle           // '…' and ‘…’
	nQuoteKinds
)

// InQuotes reports whether the byte range [start, end) of original lies
// between a pair of quotation marks: someone reporting what was said
// ("he told me “kill yourself”") rather than saying it. Double quotes of
// every common style pair up, as do single quotes that open before a word
// and close after one, so that apostrophes ("don't", "'cause") are not
// taken for quotes. A quotation mark that is never closed quotes nothing.
// It works on the original text, where the quotation marks are; pass it the
// OrigStart and OrigEnd of a Match.
func InQuotes(original string, start, end int) bool {
	if start < 0 || end < start || end > len(original) {
		return false
	}
	var open [nQuoteKinds]int // byte offset after the opening mark, or -1
	for k := range open {
		open[k] = -1
	}
	// closes ends a quote of kind k at byte i, reporting whether it
	// contained the range.
	closes := func(k, i int) bool {
		inside := open[k] >= 0 && open[k] <= start && end <= i
		open[k] = -1
		return inside
	}
	for i := 0; i < len(original); {
		r, n := utf8.DecodeRuneInString(original[i:])
		var inside bool
		switch r {
		case '"':
			if open[qDouble] >= 0 {
				inside = closes(qDouble, i)
			} else {
				open[qDouble] = i + n
			}
		case '“':
			if open[qLow] >= 0 {
				inside = closes(qLow, i)
			} else {
				open[qCurly] = i + n
			}
		case '”':
			switch {
			case open[qCurly] >= 0:
				inside = closes(qCurly, i)
			case open[qLow] >= 0:
				inside = closes(qLow, i)
			default:
				open[qCurly] = i + n
			}
		case '„':
			open[qLow] = i + n
		case '«', '‹':
			open[qGuillemet] = i + n
		case '»', '›':
			inside = closes(qGuillemet, i)
		case '「', '『':
			open[qCJK] = i + n
		case '」', '』':
			inside = closes(qCJK, i)
		case '\'', '‘', '’':
			before := i > 0 && quoteWordBefore(original[:i])
			after := quoteWordAfter(original[i+n:])
			switch {
			case open[qSingle] >= 0 && before && !after:
				inside = closes(qSingle, i)
			case open[qSingle] < 0 && !before && after && r != '’':
				open[qSingle] = i + n
			}
		}
		if inside {
			return true
		}
		i += n
	}
	return false
}

// quoteWordBefore reports whether s ends with a letter, a digit or sentence
// punctuation (a quote closing after "…kill!'").
func quoteWordBefore(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '!' || r == '?' || r == ',' || r == '*'
}

// quoteWordAfter reports whether s starts with a letter or a digit.
func quoteWordAfter(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}
