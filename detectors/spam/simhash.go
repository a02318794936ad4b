package spam

import (
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/goshawk-safety/goshawk/detectors/text"
)

// Fingerprints. A message's fingerprint is the 64-bit SimHash of the set of
// its canonical words: the words of the text layer's normal form (so case,
// accents, look-alike letters, leetspeak and spelled-out letters are already
// undone) without links, e-mail addresses, @mentions, numbers and the
// common function words, with plural s dropped and a few chat spellings
// read as the word ("congrats", "msg"). Two texts that differ only in those
// (a campaign's template filled with another name, amount or link) have the
// same fingerprint; every other word changed moves it by a few bits.
//
// The fingerprint is cut into `bands` bands of bandBits bits. Two
// fingerprints at most bands-1 bits apart agree on at least one band (each
// differing bit spoils one band at most), so near-duplicates always meet in
// the bucket of some band: the key "b<band>:<value>" of the spam-fingerprint
// stream.
const (
	bands    = 4
	bandBits = 64 / bands
)

// bandKey is the bucket key of band b of h.
func bandKey(h uint64, b int) string {
	return "b" + strconv.Itoa(b) + ":" + hex4(band(h, b))
}

// band returns band b of h.
func band(h uint64, b int) uint16 { return uint16(h >> (bandBits * b)) }

func hex4(v uint16) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[v>>12], digits[v>>8&15], digits[v>>4&15], digits[v&15]})
}

// parseBandKey reads a bucket key.
func parseBandKey(key string) (b int, v uint16, ok bool) {
	if len(key) != 7 || key[0] != 'b' || key[2] != ':' || key[1] < '0' || key[1] >= '0'+bands {
		return 0, 0, false
	}
	n, err := strconv.ParseUint(key[3:], 16, 16)
	if err != nil || strings.ToLower(key[3:]) != key[3:] {
		return 0, 0, false
	}
	return int(key[1] - '0'), uint16(n), true
}

// distance is the Hamming distance of two fingerprints.
func distance(a, b uint64) int { return bits.OnesCount64(a ^ b) }

// fingerprinter computes fingerprints, reusing its memory.
type fingerprinter struct {
	words   []uint64
	scratch []byte
}

// simhash returns the fingerprint of a normalised text and the number of
// distinct canonical words it has.
func (fp *fingerprinter) simhash(n text.Normalized) (uint64, int) {
	fp.words = fp.words[:0]
	t := n.Text
	for i := 0; i < len(t); {
		j := strings.IndexByte(t[i:], ' ')
		if j < 0 {
			j = len(t) - i
		}
		if chunk := t[i : i+j]; chunk != "" && !skipChunk(chunk) {
			fp.chunkWords(n, i, i+j)
		}
		i += j + 1
	}
	slices.Sort(fp.words)
	fp.words = slices.Compact(fp.words)
	var v [64]int32
	for _, w := range fp.words {
		for i := range 64 {
			v[i] += int32(w>>i&1)*2 - 1
		}
	}
	var h uint64
	for i := range 64 {
		if v[i] > 0 {
			h |= 1 << i
		}
	}
	return h, len(fp.words)
}

// skipChunk: links, e-mail addresses and @mentions say nothing about the
// wording (campaigns rotate them).
func skipChunk(c string) bool {
	if strings.IndexByte(c, '@') >= 0 || strings.IndexByte(c, '/') >= 0 || strings.Contains(c, "www.") {
		return true
	}
	_, link := linkHost(c)
	return link
}

// chunkWords adds the canonical words of n.Text[from:to], a piece without
// spaces.
func (fp *fingerprinter) chunkWords(n text.Normalized, from, to int) {
	c := n.Text
	w := fp.scratch[:0]
	start := -1
	letters, digits := false, false
	flush := func(end int) {
		if len(w) > 0 && !properNoun(n, start, end) {
			fp.add(w, letters, digits)
		}
		w, letters, digits, start = w[:0], false, false, -1
	}
	for i := from; i < to; {
		r, size := utf8.DecodeRuneInString(c[i:])
		inWord := true
		switch {
		case unicode.IsLetter(r):
			letters = true
			w = utf8.AppendRune(w, r)
		case r >= '0' && r <= '9':
			digits = digits || r != '1'
			w = append(w, byte(r))
		case (r == '\'' || r == '’') && len(w) > 0 && i+size < to:
			// inside a word: "don't" is "dont"
		case unicode.IsMark(r) && len(w) > 0:
			w = utf8.AppendRune(w, r)
		default:
			inWord = false
			flush(i)
		}
		if inWord && start < 0 {
			start = i
		}
		i += size
	}
	flush(to)
	fp.scratch = w
}

// properNoun reports whether the word at n.Text[start:end] was written as
// a name in the middle of a sentence ("Sarah", "Amazon", "J0hn"): a
// capital and then a small letter (or a digit that the normal form reads
// as one), after a word and not after the end of a sentence.
// Campaigns fill names into their template; the fingerprint leaves them
// out.
func properNoun(n text.Normalized, start, end int) bool {
	if start < 0 || end <= start {
		return false
	}
	src := n.Source()
	os, oe := n.Original(start, end)
	r1, s1 := utf8.DecodeRuneInString(src[os:oe])
	r2, _ := utf8.DecodeRuneInString(src[os+s1 : oe])
	if !unicode.IsUpper(r1) || !unicode.IsLower(r2) && !unicode.IsDigit(r2) {
		return false
	}
	before := strings.TrimRightFunc(src[:os], func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune("\"'“‘(«*_", r)
	})
	if before == "" {
		return false // first word of the text
	}
	last, _ := utf8.DecodeLastRuneInString(before)
	return !strings.ContainsRune(".!?…:\n", last)
}

// add hashes one word, unless it says nothing.
func (fp *fingerprinter) add(w []byte, letters, digits bool) {
	if !letters || digits || utf8.RuneCount(w) < 2 {
		return // numbers, codes, amounts, single letters
	}
	for i, c := range w {
		if c == '1' { // the normal form's "i or l"
			w[i] = 'l'
		}
	}
	if len(w) >= 4 && w[len(w)-1] == 's' && w[len(w)-2] != 's' {
		w = w[:len(w)-1]
	}
	if s, ok := synonyms[string(w)]; ok {
		w = append(w[:0], s...)
	}
	if stopwords[string(w)] {
		return
	}
	fp.words = append(fp.words, mix(fnv64(w)))
}

func fnv64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// mix is the splitmix64 finaliser: every bit of the result depends on every
// bit of the input, which SimHash needs of its word hashes.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// stopwords carry no content (after plural s is dropped: "thi" is "this").
var stopwords = setOf("a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for",
	"with", "from", "as", "is", "are", "wa", "was", "were", "be", "been", "am", "me", "my", "mine", "you", "your",
	"your", "u", "ur", "we", "our", "us", "they", "them", "their", "he", "him", "hi", "his", "she", "her", "it",
	"it", "its", "thi", "this", "that", "these", "those", "there", "here", "what", "which", "who", "whom", "do",
	"doe", "does", "did", "have", "ha", "has", "had", "will", "would", "can", "could", "should", "shall", "may",
	"might", "must", "not", "no", "so", "just", "now", "then", "than", "too", "very", "all", "any", "some",
	"get", "got", "up", "out", "about", "into", "over", "also", "only", "im", "ive", "dont", "cant", "wont",
	"youve", "youre", "youll", "youd", "weve", "were", "theyre", "thats", "whats", "let", "isnt", "doesnt",
	"didnt", "arent", "wasnt", "havent", "hasnt", "wouldnt", "couldnt", "shouldnt", "ill", "id",
	"hey", "hello", "dear", "oh", "ok", "okay", "please", "pl", "pls", "plz", "lol", "omg", "ye", "yes", "yeah",
	"yea", "hmm", "ya", "yo", "da", "de", "la", "le", "el")

// synonyms are chat spellings of a word, and the word.
var synonyms = map[string]string{
	"congrat": "congratulation", "congratz": "congratulation", "congratulation": "congratulation",
	"msg": "message", "acct": "account", "acc": "account", "pwd": "password", "pw": "password",
	"txt": "text", "thx": "thank", "thank": "thank", "ty": "thank", "tnx": "thank", "ppl": "people",
	"asap": "soon", "immediately": "soon", "bc": "because", "cuz": "because", "coz": "because",
	"pic": "photo", "pix": "photo", "picture": "photo", "vid": "video",
}
