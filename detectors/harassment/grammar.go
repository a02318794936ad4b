package harassment

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The grammar of targeting: small closed word lists that say whether a term
// is aimed at the recipient. They are English grammar, not policy, so they
// live here and not in the rule files; what cancels or downgrades a rule
// (negation, counter-speech, reported speech, game talk) is policy and lives
// in each rule's unless_* and low_* fields.
//
// Every phrase here is normalised and matched by the same text.Matcher as
// the rules' terms, so "ｕ", "y0u" and "u r a" (which the normal form joins
// into "ura") are read like "u", "you" and "u r a".

// secondPerson words and phrases point at the reader. "ur" is left out: it
// is both "you're" and "your", and is in weakSecondPerson.
var secondPerson = []string{
	"you", "u", "ya", "yu", "yoo", "ye", "you're", "youre", "u're", "you are", "u are", "you r", "you were", "u were",
	"yourself", "urself", "ur self", "your self", "y'all", "yall", "you guys", "u guys", "you lot", "you two",
	"you all", "you people", "ura", "u r", "u r a", "you'll always be", "you will always be", "you'll never be anything but",
	"stop being", "quit being", "stop acting like", "you being", "ur being",
	// "your" written for "you're", before an article or an intensifier:
	// "your a moron", "your so dumb" (never "your dumb idea": no article).
	"your a", "your an", "your such", "your so", "your such a", "your such an",
}

// weakSecondPerson point at the reader only when the term ends the clause:
// "ur" is "you're" in "ur so dumb" but "your" in "ur dumb idea"; a
// vocative ("shut up loser", "bye idiot") addresses the reader, but "ok
// stupid question" does not.
var weakSecondPerson = []string{
	"ur", "shut up", "stfu", "shut it", "shut ur mouth", "shut your mouth", "bye", "byee", "oi", "oy", "hey", "listen",
	"whatever", "ok", "okay", "k", "get lost", "go away", "fuck off", "piss off", "sit down", "cry more", "cry about it",
	"nobody asked", "no one asked", "nobody cares",
}

// family phrases point at the reader's family, an insult to the reader:
// "your mom is a …".
var family = []string{
	"your mom", "your mom's", "ur mom", "ur moms", "ur mom's", "your mum", "your mum's", "ur mum", "ur mums",
	"your mother", "ur mother", "yo mama", "yo momma", "yo mamma", "your momma", "ur momma",
	"your dad", "your dad's", "ur dad", "ur dads", "your father", "ur father", "your sister", "ur sister",
	"your brother", "ur brother", "your family", "ur family", "your whole family", "ur whole family",
	"your parents", "ur parents", "your girlfriend", "ur girlfriend", "your gf", "ur gf", "your boyfriend",
	"ur boyfriend", "your bf", "ur bf", "your kids", "ur kids", "your son", "your daughter", "your wife", "your husband",
}

// fillers may stand between the second-person word and the term: copulas,
// articles, intensifiers ("you are such a fucking …"). Terms of the rules
// that target the reader are fillers too ("you stupid fat …").
var fillers = []string{
	"are", "r", "is", "was", "were", "be", "being", "been", "a", "an", "the", "such", "such a", "such an", "so", "soo",
	"sooo", "really", "rly", "very", "too", "just", "literally", "lowkey", "highkey", "actually", "honestly", "truly",
	"totally", "total", "complete", "completely", "absolute", "absolutely", "utter", "utterly", "fucking", "fuckin",
	"fking", "fkn", "fricking", "freaking", "frickin", "effing", "bloody", "damn", "dam", "goddamn", "big", "biggest",
	"little", "lil", "massive", "huge", "real", "proper", "one", "nothing but", "always", "still", "look", "looks",
	"looking", "sound", "sounds", "seem", "seems", "act", "acting", "like", "kinda", "kind of", "sort of", "sorta",
	"as", "this", "that", "some", "basically", "straight up", "deadass", "genuinely", "clearly", "obviously", "officially", "certified",
	"such a big", "the most", "most", "more", "of a", "an absolute", "a complete", "a total", "piece of",
	"sad", "dirty", "filthy", "nasty", "lazy", "stinking", "stinky", "smelly", "silly", "rotten", "miserable",
	"pitiful", "worthless piece of", "sorry", "sorry ass", "fat ass", "ugly ass", "dumb ass",
	// Describing words with no telling ending, which the modifier test
	// cannot see: "you thick twat", "you smug prick".
	"thick", "smug", "arrogant", "entitled", "incompetent", "ignorant", "bitter", "jealous", "desperate",
	"clueless", "spoilt", "spoiled", "fake", "weak", "petty", "cocky", "mouthy", "gobby", "vile",
	"toxic", "snotty", "greasy", "whiny", "sad little", "old", "two faced",
	// Slang intensifiers: "ur mad ugly", "you're hella annoying", "dead thick".
	"mad", "hella", "super", "extra", "wicked", "dead", "well", "proper", "af",
}

// intensifiers make a one-insult sentence an exclamation at the reader.
var intensifiers = map[string]bool{
	"absolute": true, "total": true, "complete": true, "utter": true, "fucking": true, "fuckin": true,
	"fking": true, "fkn": true, "bloody": true, "such": true, "such a": true, "such an": true, "an absolute": true,
	"a complete": true, "a total": true, "proper": true, "massive": true,
}

// conjunctions join the insults of a list: "fat, lazy and dumb".
var conjunctions = map[string]bool{"and": true, "n": true, "or": true, "plus": true, "&": true}

// fond words before an insult make it teasing: "you beautiful idiot",
// "you lovely muppet".
var fond = map[string]bool{
	"beautiful": true, "gorgeous": true, "lovely": true, "adorable": true, "sweet": true, "brilliant": true,
	"clever": true, "wonderful": true, "magnificent": true, "precious": true, "cute": true, "darling": true,
	"lovable": true, "loveable": true, "glorious": true, "genius": true, "legendary": true,
}

// likeYou after a term points it at the reader: "losers like you".
var likeYou = []string{"like you", "like u", "like ya", "like yourself", "like urself", "like you lot", "like y'all"}

// joking phrases mark a message as playful, like laughter.
var joking = []string{"just kidding", "only kidding", "just joking", "only joking", "i'm joking", "im joking", "i'm kidding", "jk", "jks", "jokes", "kidding", "no offence", "no offense"}

// isLaughWord reports whether a normalised word is laughter: lol, lmao,
// haha, hehe, jaja, xd, rofl and their stretched forms.
func isLaughWord(w string) bool {
	switch w {
	case "lol", "lolz", "lolol", "lmao", "lmfao", "rofl", "roflmao", "xd", "xdd", "xddd", "kek", "kekw", "haha", "hehe", "jaja", "ahaha", "ahah", "hah", "heh", "lel", "lul":
		return true
	}
	if len(w) >= 4 && (strings.HasPrefix(w, "ha") || strings.HasPrefix(w, "he") || strings.HasPrefix(w, "ja") || strings.HasPrefix(w, "ah")) {
		// (ha)+, (he)+, (ja)+ with the odd stray letter: "hahah", "ahahaha"
		letters := 0
		for i := 0; i < len(w); i++ {
			switch w[i] {
			case 'h', 'a', 'e', 'j':
				letters++
			}
		}
		return letters == len(w) && strings.Count(w, "h")+strings.Count(w, "j") >= 2
	}
	if strings.HasPrefix(w, "lmao") || strings.HasPrefix(w, "lmfao") || (strings.HasPrefix(w, "lo") && strings.Trim(w, "lo") == "") {
		return true
	}
	return false
}

// laughEmoji are the emoji and emoticons that mark a message as playful.
// A plain smile is not among them: "you're an idiot :)" is not a joke.
var laughEmoji = []string{"😂", "🤣", "😆", "😹", "😜", "😝", "😛", "😁", "😅", "😄", "😉", "💀", "😭", "🙈", "🤪", "🤭", ":p", ":P", ":D", "xD", "XD", ";)"}

// laughEmojiChars are the first characters of laughEmoji, to skip most
// texts with one scan.
const laughEmojiChars = ":;xX😂🤣😆😹😜😝😛😁😅😄😉💀😭🙈🤪🤭"

// hasLaughEmoji reports whether the original text has a laughing emoji or
// emoticon.
func hasLaughEmoji(s string) bool {
	if !strings.ContainsAny(s, laughEmojiChars) {
		return false
	}
	for _, e := range laughEmoji {
		if strings.Contains(s, e) {
			return true
		}
	}
	return false
}

// span is one word of the normal form: its byte range.
type span struct{ start, end int32 }

// segment appends the words of the normal form t to out: runs of letters,
// digits and combining marks, with apostrophes inside a word and masks
// (* and #) after a word character kept in the word, and an @ in front of a
// letter kept. It follows the text package's reading of words closely
// enough to locate its matches; a match is mapped to the words that contain
// its first and last byte.
func segment(t string, out []span) []span {
	i := 0
	for i < len(t) {
		r, n := utf8.DecodeRuneInString(t[i:])
		if !isWordRune(r) && !(r == '@' && i+n < len(t) && isWordByte(t[i+n])) {
			i += n
			continue
		}
		start := i
		i += n
		for i < len(t) {
			r, n := utf8.DecodeRuneInString(t[i:])
			if isWordRune(r) || r == '*' || r == '#' {
				i += n
				continue
			}
			if (r == '\'' || r == '’' || r == 'ʼ') && i+n < len(t) {
				if r2, _ := utf8.DecodeRuneInString(t[i+n:]); isWordRune(r2) {
					i += n
					continue
				}
			}
			break
		}
		out = append(out, span{int32(start), int32(i)})
	}
	return out
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= utf8.RuneSelf
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
}

// Gaps between words, from loosest to firmest.
const (
	gapSoft  = iota // spaces, apostrophes, dashes, an ellipsis, quotation marks
	gapComma        // a comma, colon or bracket: the same sentence, another clause
	gapHard         // a full stop, ! ? ; or a line break: another sentence
)

// gapKind classifies the text between two words: g is the normal form's gap
// and orig the original text it came from (where line breaks still are).
func gapKind(g, orig string) int {
	kind := gapSoft
	for i := 0; i < len(g); i++ {
		switch g[i] {
		case '!', '?', ';':
			return gapHard
		case '.':
			if !(i+1 < len(g) && g[i+1] == '.' || i > 0 && g[i-1] == '.') {
				return gapHard
			}
		case ',', ':', '(', ')', '[', ']':
			kind = gapComma
		}
	}
	if strings.ContainsAny(orig, "\n\r") {
		return gapHard
	}
	return kind
}
