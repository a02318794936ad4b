package text

import (
	"errors"
	"fmt"
	"slices"
	"unicode"
	"unicode/utf8"
)

// Match is one occurrence of a lexicon phrase in a normalised text.
type Match struct {
	ID         int // index of the phrase in the lexicon given to NewMatcher
	Start, End int // byte range in Normalized.Text
	// OrigStart and OrigEnd are the byte range in the source text,
	// Normalized.Original(Start, End).
	OrigStart, OrigEnd int
}

// Limits of a lexicon phrase, and of the matcher's state set.
const (
	// MaxPhraseWords is the most words a phrase may have.
	MaxPhraseWords = 32
	// maxVariants bounds how many spellings one phrase expands to ('1' as i
	// or l, look-alike words as written or folded).
	maxVariants = 64
	// maxStates bounds the automaton states tracked at once while reading
	// ambiguous text (stretched letters, '1', masks). Beyond it, the
	// shallowest readings are dropped: a match can then be missed, never
	// invented.
	maxStates = 128
)

// sep stands for a word boundary in the automaton's input: the matcher reads
// a text as its words separated by sep, with sep at both ends. Normalised
// text never contains NUL, so sep never collides with a letter.
const sep = 0

// Matcher finds lexicon phrases in normalised texts. It is an Aho-Corasick
// automaton over the phrases' words, built once; Match runs in time linear
// in the text whatever the lexicon size. A Matcher is immutable and safe for
// concurrent use.
type Matcher struct {
	phrases []string
	words   []int32 // words per phrase
	nodes   []node
	edgeB   []byte
	edgeTo  []int32
	dense   []int32 // 256 transitions per dense node; -1 for none
	out     []int32 // phrase ids
	unions  unionCache
}

type node struct {
	fail         int32
	depth        int32 // bytes from the root
	edgeLo       int32 // edges edgeLo..edgeHi-1, sorted by byte
	edgeHi       int32
	dense        int32 // offset into Matcher.dense, or -1
	outLo, outHi int32 // phrases that end here (including via fail links)
}

// denseMin is the number of children from which a node gets a full
// transition table instead of a sorted edge list.
const denseMin = 12

// NewMatcher builds a matcher for phrases. Each phrase is normalised with
// Normalize, so lexicon and texts meet in the same form, and matches only
// as a sequence of whole words. A phrase must contain a word, at most
// MaxPhraseWords of them, and no masking character (* or # inside a word);
// write phrases in plain spelling and let the normal form and the matcher
// handle the disguises. A '1' inside a word stands for i or l, a letter
// repeated three times or more counts once, apostrophes inside words are
// ignored ("don't" is "dont"), and a word written only in look-alike letters
// of another script also matches in its Latin disguise ("сука" matches
// "cyka" in a Latin-script message).
func NewMatcher(phrases []string) (*Matcher, error) {
	m := &Matcher{phrases: slices.Clone(phrases), words: make([]int32, len(phrases))}
	b := newTrieBuilder()
	var z Normalizer
	for id, p := range phrases {
		variants, nwords, err := patternVariants(z.Normalize(p).Text)
		if err != nil {
			return nil, fmt.Errorf("phrase %d %q: %w", id, p, err)
		}
		m.words[id] = int32(nwords)
		for _, v := range variants {
			b.add(v, int32(id))
		}
	}
	b.finish(m)
	return m, nil
}

// Len returns the number of phrases.
func (m *Matcher) Len() int { return len(m.phrases) }

// Phrase returns phrase id as given to NewMatcher.
func (m *Matcher) Phrase(id int) string { return m.phrases[id] }

// Match appends to out every occurrence of every phrase in n, ordered by
// end, and returns out. Overlapping occurrences are all reported. It does
// not allocate when out has room for the matches.
func (m *Matcher) Match(n Normalized, out []Match) []Match {
	if len(m.nodes) <= 1 {
		return out
	}
	var sc scanner
	sc.m = m
	sc.cur[0] = 0
	sc.n = 1
	sc.byte(sep)
	t := n.Text
	for wordIdx, i := 0, 0; ; wordIdx++ {
		ws, we, hasLetter := nextWord(t, i)
		if ws == we {
			break
		}
		sc.starts[wordIdx%MaxPhraseWords] = int32(ws)
		sc.word(t[ws:we], hasLetter)
		sc.byte(sep)
		out = sc.emit(n, out, wordIdx, we)
		i = we
	}
	return out
}

// scanner is the matcher's per-call state: the set of automaton states
// (more than one where the text can be read several ways) and the start
// offsets of the last MaxPhraseWords words.
type scanner struct {
	m      *Matcher
	cur    [maxStates]int32
	n      int
	common int // bytes read identically by every reading since the last ambiguity
	starts [MaxPhraseWords]int32
}

// letters are the readings of a mask character.
const letters = "abcdefghijklmnopqrstuvwxyz"

// word feeds the automaton one word of the normal form, resolving its
// ambiguities by following every reading.
func (sc *scanner) word(w string, hasLetter bool) {
	p := 0
	if w[0] == '@' { // "@name" or "@ss"
		sc.alts("a", "")
		p = 1
	}
	for p < len(w) {
		if sc.n == 1 && sc.cur[0] == 0 {
			return // no phrase can start inside a word
		}
		c := w[p]
		switch {
		case c == '\'':
			p++
		case c == '*' || c == '#':
			sc.anyLetter()
			p++
		case c == '1' && hasLetter:
			r := run(w, p, 1)
			if r >= 3 {
				sc.alts("i", "l", "ii", "ll")
				p += r
			} else {
				sc.alts("i", "l")
				p++
			}
		case c < utf8.RuneSelf:
			if r := run(w, p, 1); r >= 3 && isASCIILetter(c) {
				sc.alts(w[p:p+1], w[p:p+2])
				p += r
			} else {
				sc.byte(c)
				p++
			}
		default:
			ch, size := utf8.DecodeRuneInString(w[p:])
			if ch == '’' || ch == 'ʼ' {
				p += size
				continue
			}
			if ch == unknownLetter {
				sc.anyLetter()
				p += size
				continue
			}
			if r := run(w, p, size); r >= 3 && unicode.IsLetter(ch) {
				sc.alts(w[p:p+size], w[p:p+2*size])
				p += r * size
				continue
			}
			for k := range size {
				sc.byte(w[p+k])
			}
			p += size
		}
	}
}

// anyLetter feeds every reading of a letter nobody can read (a mask, or
// unknownLetter).
func (sc *scanner) anyLetter() {
	var alts [len(letters)]string
	for i := range alts {
		alts[i] = letters[i : i+1]
	}
	sc.alts(alts[:]...)
}

// run returns how many times the size-byte character at w[p:] repeats from p.
func run(w string, p, size int) int {
	n := 1
	for q := p + size; q+size <= len(w) && w[q:q+size] == w[p:p+size]; q += size {
		n++
	}
	return n
}

// byte feeds one unambiguous byte to every state.
func (sc *scanner) byte(b byte) {
	for i := range sc.n {
		sc.cur[i] = sc.m.delta(sc.cur[i], b)
	}
	sc.common++
	sc.prune()
}

// alts feeds one ambiguous character: every state reads every alternative.
func (sc *scanner) alts(alts ...string) {
	var next [maxStates]int32
	nn := 0
	for i := range sc.n {
		for _, a := range alts {
			s := sc.cur[i]
			for k := 0; k < len(a); k++ {
				s = sc.m.delta(s, a[k])
			}
			switch {
			case slices.Contains(next[:nn], s):
			case nn < maxStates:
				next[nn] = s
				nn++
			default:
				// Full: keep the deeper readings, which carry the longer
				// partial phrases ("a**hole" through "as"), rather than
				// the first ones in alphabetical order.
				low := 0
				for j := 1; j < nn; j++ {
					if sc.m.nodes[next[j]].depth < sc.m.nodes[next[low]].depth {
						low = j
					}
				}
				if sc.m.nodes[s].depth > sc.m.nodes[next[low]].depth {
					next[low] = s
				}
			}
		}
	}
	sc.cur, sc.n = next, nn
	sc.common = 0
	sc.prune()
}

// prune drops states that another state dominates. Every reading has read
// the same last sc.common bytes, so a state no deeper than that lies within
// them: it is the same whatever the reading, and any deeper state's string
// ends with it, matching everything it would match. Keep the deeper states,
// or a single one when none is deeper.
func (sc *scanner) prune() {
	if sc.n <= 1 {
		return
	}
	k := 0
	for i := range sc.n {
		if s := sc.cur[i]; int(sc.m.nodes[s].depth) > sc.common && !slices.Contains(sc.cur[:k], s) {
			sc.cur[k] = s
			k++
		}
	}
	if k == 0 {
		k = 1
	}
	sc.n = k
}

// emit appends the phrases that end at the word boundary just read.
func (sc *scanner) emit(n Normalized, out []Match, wordIdx, end int) []Match {
	from := len(out)
	for i := range sc.n {
		nd := &sc.m.nodes[sc.cur[i]]
		for _, id := range sc.m.out[nd.outLo:nd.outHi] {
			first := wordIdx - int(sc.m.words[id]) + 1
			if first < 0 {
				continue // cannot happen: a phrase of k words ends after k words
			}
			start := int(sc.starts[first%MaxPhraseWords])
			if slices.ContainsFunc(out[from:], func(x Match) bool { return x.ID == int(id) && x.Start == start }) {
				continue
			}
			os, oe := n.Original(start, end)
			out = append(out, Match{ID: int(id), Start: start, End: end, OrigStart: os, OrigEnd: oe})
		}
	}
	return out
}

// delta is the automaton's transition function.
func (m *Matcher) delta(s int32, b byte) int32 {
	for {
		if t := m.child(s, b); t >= 0 {
			return t
		}
		if s == 0 {
			return 0
		}
		s = m.nodes[s].fail
	}
}

func (m *Matcher) child(s int32, b byte) int32 {
	nd := &m.nodes[s]
	if nd.dense >= 0 {
		return m.dense[nd.dense+int32(b)]
	}
	for e := nd.edgeLo; e < nd.edgeHi; e++ {
		switch eb := m.edgeB[e]; {
		case eb == b:
			return m.edgeTo[e]
		case eb > b:
			return -1
		}
	}
	return -1
}

// Word boundaries, as the matcher sees the normal form: a word is a run of
// letters, digits and combining marks, with apostrophes inside it ignored,
// masks (* or #) after a word character and before another or in a run of
// two or more ("f*ck", "a**") read as any letter, and an @ in front of a
// word ("@ss", "@name", but not the one in "user@host") read as "a" or as
// nothing.

func decodeAt(t string, i int) (rune, int) {
	if i >= len(t) {
		return utf8.RuneError, 0
	}
	if c := t[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(t[i:])
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiClass[r] == clsLetter || asciiClass[r] == clsDigit
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || isMark(r) || r == unknownLetter
}

func isLetterRune(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiClass[r] == clsLetter
	}
	return unicode.IsLetter(r) || r == unknownLetter
}

// unknownLetter (U+FFFD) stands, in the normal form, for a letter of a
// disguised word that no table reads (a letter of another script, or a
// turned Latin one, amid Latin letters): the Matcher reads it as any letter,
// wherever it is in the word. Invalid UTF-8 reads as U+FFFD too, and is
// read the same way.
const unknownLetter = utf8.RuneError

func lastRune(t string) rune {
	r, _ := utf8.DecodeLastRuneInString(t)
	return r
}

func wordRuneAt(t string, i int) bool {
	r, n := decodeAt(t, i)
	return n > 0 && isWordRune(r)
}

// nextWord returns the first word of t at or after i, and whether it has a
// letter; ws == we when there is none.
func nextWord(t string, i int) (ws, we int, hasLetter bool) {
	for i < len(t) {
		r, n := decodeAt(t, i)
		if isWordRune(r) {
			break
		}
		if r == '@' && (i == 0 || !isWordRune(lastRune(t[:i]))) {
			if r2, _ := decodeAt(t, i+1); r2 < utf8.RuneSelf && asciiClass[r2] == clsLetter {
				break
			}
		}
		i += n
	}
	if i >= len(t) {
		return len(t), len(t), false
	}
	ws = i
	if t[i] == '@' {
		i++
	}
	for i < len(t) {
		r, n := decodeAt(t, i)
		switch {
		case isWordRune(r):
			hasLetter = hasLetter || isLetterRune(r)
		case (r == '\'' || r == '’' || r == 'ʼ') && wordRuneAt(t, i+n):
		case r == '*' || r == '#':
			j := i
			for j < len(t) && (t[j] == '*' || t[j] == '#') {
				j++
			}
			if j-i < 2 && !wordRuneAt(t, j) {
				return ws, i, hasLetter
			}
			n = j - i
		default:
			return ws, i, hasLetter
		}
		i += n
	}
	return ws, i, hasLetter
}

// patternVariants turns a normalised phrase into the byte strings the
// automaton stores for it: sep, the words separated by sep, sep. It
// returns several when the phrase can be read several ways.
func patternVariants(t string) ([]string, int, error) {
	variants := []string{string(rune(sep))}
	nwords := 0
	for i := 0; ; {
		ws, we, hasLetter := nextWord(t, i)
		if ws == we {
			break
		}
		i = we
		nwords++
		if nwords > MaxPhraseWords {
			return nil, 0, fmt.Errorf("more than %d words", MaxPhraseWords)
		}
		forms, err := wordForms(t[ws:we], hasLetter)
		if err != nil {
			return nil, 0, err
		}
		if len(variants)*len(forms) > maxVariants {
			return nil, 0, fmt.Errorf("more than %d spellings (too many 1s or look-alike words)", maxVariants)
		}
		var next []string
		for _, v := range variants {
			for _, f := range forms {
				next = append(next, v+f+string(rune(sep)))
			}
		}
		variants = next
	}
	if nwords == 0 {
		return nil, 0, errors.New("no word")
	}
	return slices.Compact(slices.Sorted(slices.Values(variants))), nwords, nil
}

// wordForms returns the spellings a pattern word stands for.
func wordForms(w string, hasLetter bool) ([]string, error) {
	forms := []string{""}
	if w[0] == '@' {
		w = w[1:] // "@everyone" is stored as "everyone", which "@everyone" matches
	}
	allLook, anyLook := true, false
	for p := 0; p < len(w); {
		r, size := decodeAt(w, p)
		n := run(w, p, size)
		switch {
		case r == '\'' || r == '’' || r == 'ʼ':
			p += size
			continue
		case r == '*' || r == '#':
			return nil, errors.New("masking character inside a word; write the phrase in plain letters")
		case r == '1' && hasLetter:
			if n >= 3 {
				p += n * size
			} else {
				p += size
			}
			var next []string
			for _, f := range forms {
				next = append(next, f+"i", f+"l")
			}
			if len(next) > maxVariants {
				return nil, fmt.Errorf("more than %d spellings (too many 1s)", maxVariants)
			}
			forms = next
			continue
		}
		if isLetterRune(r) {
			if l := lookalike[r]; l != 0 && r >= utf8.RuneSelf && !unicode.Is(unicode.Latin, r) {
				anyLook = true
			} else {
				allLook = false
			}
		}
		if n >= 3 && isLetterRune(r) {
			p += n * size // a stretched letter counts once
		} else {
			p += size
		}
		for i := range forms {
			forms[i] += string(r)
		}
	}
	if allLook && anyLook {
		for _, f := range slices.Clone(forms) {
			folded := []rune(f)
			for i, r := range folded {
				if l := lookalike[r]; l != 0 {
					folded[i] = l
				}
			}
			// A folded '1' stands for i or l like any other.
			var next []string
			next = append(next, "")
			for _, r := range folded {
				var grown []string
				for _, g := range next {
					if r == '1' {
						grown = append(grown, g+"i", g+"l")
					} else {
						grown = append(grown, g+string(r))
					}
				}
				next = grown
			}
			forms = append(forms, next...)
		}
	}
	if len(forms) > maxVariants {
		return nil, fmt.Errorf("more than %d spellings", maxVariants)
	}
	return forms, nil
}

// trieBuilder collects patterns before the automaton is laid out.
type trieBuilder struct {
	next  map[uint64]int32 // (node<<8 | byte) → child
	depth []int32
	ids   [][]int32 // phrases ending at each node
}

func newTrieBuilder() *trieBuilder {
	return &trieBuilder{next: map[uint64]int32{}, depth: []int32{0}, ids: [][]int32{nil}}
}

func (b *trieBuilder) add(p string, id int32) {
	s := int32(0)
	for i := 0; i < len(p); i++ {
		key := uint64(s)<<8 | uint64(p[i])
		t, ok := b.next[key]
		if !ok {
			t = int32(len(b.depth))
			b.next[key] = t
			b.depth = append(b.depth, b.depth[s]+1)
			b.ids = append(b.ids, nil)
		}
		s = t
	}
	if !slices.Contains(b.ids[s], id) {
		b.ids[s] = append(b.ids[s], id)
	}
}

// finish lays the trie out in m and computes failure links and outputs.
func (b *trieBuilder) finish(m *Matcher) {
	type edge struct {
		from int32
		b    byte
		to   int32
	}
	edges := make([]edge, 0, len(b.next))
	for k, to := range b.next {
		edges = append(edges, edge{from: int32(k >> 8), b: byte(k), to: to})
	}
	slices.SortFunc(edges, func(x, y edge) int {
		if x.from != y.from {
			return int(x.from - y.from)
		}
		return int(x.b) - int(y.b)
	})
	m.nodes = make([]node, len(b.depth))
	m.edgeB = make([]byte, len(edges))
	m.edgeTo = make([]int32, len(edges))
	for i, e := range edges {
		m.edgeB[i], m.edgeTo[i] = e.b, e.to
	}
	for i := 0; i < len(edges); {
		j := i
		for j < len(edges) && edges[j].from == edges[i].from {
			j++
		}
		nd := &m.nodes[edges[i].from]
		nd.edgeLo, nd.edgeHi = int32(i), int32(j)
		i = j
	}
	for s := range m.nodes {
		nd := &m.nodes[s]
		nd.depth = b.depth[s]
		nd.dense = -1
		if nd.edgeHi-nd.edgeLo >= denseMin {
			nd.dense = int32(len(m.dense))
			for range 256 {
				m.dense = append(m.dense, -1)
			}
			for e := nd.edgeLo; e < nd.edgeHi; e++ {
				m.dense[nd.dense+int32(m.edgeB[e])] = m.edgeTo[e]
			}
		}
	}
	// Breadth-first: failure links, then outputs (own phrases, then the
	// fail node's, which is shallower and so already complete).
	queue := []int32{0}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		nd := &m.nodes[s]
		if s != 0 {
			nd.outLo = int32(len(m.out))
			m.out = append(m.out, b.ids[s]...)
			f := m.nodes[nd.fail]
			m.out = append(m.out, m.out[f.outLo:f.outHi]...)
			nd.outHi = int32(len(m.out))
		}
		for e := nd.edgeLo; e < nd.edgeHi; e++ {
			c, t := m.edgeB[e], m.edgeTo[e]
			if s != 0 {
				m.nodes[t].fail = m.delta(nd.fail, c)
			}
			queue = append(queue, t)
		}
	}
}
