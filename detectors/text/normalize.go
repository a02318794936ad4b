package text

import (
	"bytes"
	"math"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"
)

// Normalized is a text in the normal form together with the map back to the
// text it came from. Build it with Normalize or (*Normalizer).Normalize; the
// zero value is the normal form of "".
type Normalized struct {
	// Text is the normal form (see the package documentation).
	Text string
	src  string
	// lo[i], hi[i]: the bytes of src that produced byte i of Text.
	lo, hi []int32
}

// Source returns the text that was normalised.
func (n Normalized) Source() string { return n.src }

// Original maps the byte range [start, end) of n.Text to the byte range of
// the source text that produced it: from the first source byte of the first
// character to the last source byte of the last character, so that it
// includes whatever the normal form removed in between (zero-width
// characters, separators between spelled-out letters, repeated letters).
// The result always lies on character boundaries of the source. An empty
// range maps to an empty range at the corresponding position. It panics if
// the range is not within n.Text, like slicing does.
func (n Normalized) Original(start, end int) (int, int) {
	if start < 0 || end < start || end > len(n.Text) {
		panic("text: Original range out of bounds")
	}
	if start < end {
		return int(n.lo[start]), int(n.hi[end-1])
	}
	switch {
	case start < len(n.Text):
		p := int(n.lo[start])
		return p, p
	case start > 0:
		p := int(n.hi[start-1])
		return p, p
	}
	return 0, 0
}

// unit is one rune of the normal form under construction, with the span of
// the source that produced it.
type unit struct {
	r      rune  // the rune in the normal form
	look   rune  // the ASCII letter (or '1') r looks like, 0 if none
	lo, hi int32 // source bytes
	cls    uint8 // clsLetter, clsDigit, ...
	flags  uint8
}

const (
	fDeleted uint8 = 1 << iota
	fLatin         // a Latin-script letter
	fUpper         // written in upper case
	fCapI          // written as the Latin capital I
	fForeign       // a Cyrillic, Greek or Armenian letter that looks like no Latin letter
	fMapped        // a leet digit or symbol rewritten to a letter (or '|' to '1')
	fJoiner        // an emoji joiner kept in the text
)

// Normalizer computes normal forms, reusing its memory from one call to
// the next. The zero value is ready to use. A Normalizer is not safe for
// concurrent use; give each goroutine its own.
type Normalizer struct {
	units        []unit
	pre          []byte // source with invisible characters removed
	preLo, preHi []int32
	iter         norm.Iter
	// Two output buffers, used in turn, so that the Text of one result may
	// be passed back in as the input of the next call.
	out      [2][]byte
	lo, hi   [2][]int32
	flip     int
	dropMark bool // drop the combining marks that follow
}

// Normalize returns the normal form of s. The result owns its memory.
func Normalize(s string) Normalized {
	var z Normalizer
	return z.Normalize(s)
}

// Normalize returns the normal form of s. The result, including its Text,
// shares memory with z and is valid only until the next call of Normalize
// on z; passing the previous result's Text as s is allowed. Copy Text
// (strings.Clone) to keep it longer. Invalid UTF-8 in s is treated as
// U+FFFD. Inputs longer than 2 GiB are not supported.
func (z *Normalizer) Normalize(s string) Normalized {
	if len(s) > math.MaxInt32 {
		panic("text: input longer than 2 GiB")
	}
	z.units = z.units[:0]
	z.dropMark = false
	if isASCII(s) {
		for i := 0; i < len(s); i++ {
			z.emitASCII(s[i], int32(i), int32(i+1))
		}
	} else {
		z.prefilter(s)
		z.compose()
	}
	z.join()
	z.words()
	return z.output(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// prefilter copies s to z.pre without its invisible characters (keeping
// emoji joiners, which emit decides about), replacing invalid UTF-8 by
// U+FFFD, and records for each byte of z.pre the source span. Combining
// marks right after a removed character are removed too: they were attached
// to nothing visible, and keeping them would let the next normalisation
// compose them with the preceding letter.
func (z *Normalizer) prefilter(s string) {
	z.pre, z.preLo, z.preHi = z.pre[:0], z.preLo[:0], z.preHi[:0]
	afterDropped := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			z.pre = append(z.pre, c)
			z.preLo = append(z.preLo, int32(i))
			z.preHi = append(z.preHi, int32(i+1))
			afterDropped = false
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			afterDropped = false
		case isEmojiJoiner(r):
		case isInvisible(r):
			afterDropped = true
			i += size
			continue
		case afterDropped && isMark(r):
			i += size
			continue
		default:
			afterDropped = false
		}
		start := len(z.pre)
		z.pre = utf8.AppendRune(z.pre, r)
		for range len(z.pre) - start {
			z.preLo = append(z.preLo, int32(i))
			z.preHi = append(z.preHi, int32(i+size))
		}
		i += size
	}
}

// compose applies NFKC to z.pre segment by segment and emits the result.
// The iterator may return the output of a source segment in several pieces
// before its position moves past that segment, so units get their span
// once the position has moved: all units emitted since the last move share
// the source bytes consumed by it.
func (z *Normalizer) compose() {
	if len(z.pre) == 0 {
		return
	}
	z.iter.Init(norm.NFKC, z.pre)
	from, first := 0, len(z.units)
	for !z.iter.Done() {
		start := z.iter.Pos()
		seg := z.iter.Next()
		if p := z.iter.Pos(); first == len(z.units) && start == from && p-start == len(seg) && bytes.Equal(seg, z.pre[start:p]) {
			// NFKC left the segment as it was (most text): each unit keeps
			// its own source span, so offsets stay exact and the widths of
			// spaces (which join reads) survive a non-ASCII character
			// elsewhere in the text.
			for off := 0; off < len(seg); {
				r, n := utf8.DecodeRune(seg[off:])
				lo, hi := z.preLo[start+off], z.preHi[start+off+n-1]
				if r < utf8.RuneSelf {
					z.emitASCII(byte(r), lo, hi)
				} else {
					z.emit(r, lo, hi)
				}
				off += n
			}
			from, first = p, len(z.units)
			continue
		}
		for len(seg) > 0 {
			r, n := utf8.DecodeRune(seg)
			seg = seg[n:]
			if r < utf8.RuneSelf {
				z.emitASCII(byte(r), 0, 0)
			} else {
				z.emit(r, 0, 0)
			}
		}
		if p := z.iter.Pos(); p > from {
			lo, hi := z.preLo[from], z.preHi[p-1]
			for k := first; k < len(z.units); k++ {
				z.units[k].lo, z.units[k].hi = lo, hi
			}
			from, first = p, len(z.units)
		}
	}
}

func (z *Normalizer) push(u unit) {
	z.units = append(z.units, u)
	z.dropMark = false
}

func (z *Normalizer) space(lo, hi int32) {
	if n := len(z.units); n == 0 || z.units[n-1].cls == clsSpace {
		if n > 0 {
			z.units[n-1].hi = max(z.units[n-1].hi, hi) // one space for the run, covering all of it
		}
		return
	}
	z.push(unit{r: ' ', lo: lo, hi: hi, cls: clsSpace})
}

// emitASCII appends one ASCII character of the (NFKC) text.
func (z *Normalizer) emitASCII(c byte, lo, hi int32) {
	switch cls := asciiClass[c]; cls {
	case clsLetter:
		u := unit{r: rune(c), lo: lo, hi: hi, cls: clsLetter, flags: fLatin}
		if c <= 'Z' {
			u.r += 'a' - 'A'
			u.flags |= fUpper
			if c == 'I' {
				u.flags |= fCapI
			}
		}
		z.push(u)
	case clsSpace:
		z.space(lo, hi)
	default:
		if c < 0x20 || c == 0x7F { // control characters
			z.dropMark = true
			return
		}
		z.push(unit{r: rune(c), lo: lo, hi: hi, cls: cls})
	}
}

// emit appends one non-ASCII rune of the NFKC text.
func (z *Normalizer) emit(r rune, lo, hi int32) {
	switch {
	case isEmojiJoiner(r):
		if z.afterEmoji() {
			z.push(unit{r: r, lo: lo, hi: hi, cls: clsJoiner, flags: fJoiner})
		} else {
			z.dropMark = true
		}
		return
	case isInvisible(r):
		z.dropMark = true
		return
	case isSpace(r):
		z.space(lo, hi)
		return
	case isMark(r):
		if z.dropMark || z.afterFoldable() || z.afterSpace() {
			return
		}
		z.units = append(z.units, unit{r: r, lo: lo, hi: hi, cls: clsMark})
		return
	}
	u := unit{lo: lo, hi: hi, look: lookalike[r]}
	lr := unicode.ToLower(r)
	if lr != r {
		u.flags |= fUpper
	}
	switch lr {
	case 'ß': // full case folding: ß → ss
		u.r, u.cls, u.flags = 's', clsLetter, u.flags|fLatin
		z.push(u)
		z.push(u)
		return
	case 'ς': // final sigma folds to σ
		lr = 'σ'
	}
	if u.look == 0 {
		// The normal form is lower case, so a capital must look like
		// whatever its small letter looks like, or normalising again would
		// fold what the first pass kept.
		u.look = lookalike[lr]
	}
	if b, ok := latinFold[lr]; ok {
		lr = b
	}
	u.r = lr
	switch {
	case lr < utf8.RuneSelf:
		u.cls = asciiClass[lr]
		if u.cls == clsLetter {
			u.flags |= fLatin
		}
	case lr == unknownLetter:
		// A letter nobody reads (see foldPlan), or invalid UTF-8: a
		// letter of no script, so that a second pass reads the word as
		// the first did.
		u.cls = clsLetter
	case unicode.IsLetter(lr):
		u.cls = clsLetter
		switch {
		case unicode.Is(unicode.Latin, lr):
			u.flags |= fLatin
			u.look = 0
		case u.look == 0 && isForeignLookalikeScript(lr):
			u.flags |= fForeign
		}
	case unicode.IsDigit(lr):
		u.cls = clsNumber
	case u.look != 0 && unicode.In(lr, unicode.So, unicode.Sm):
		// A symbol that imitates a letter (TR39: ∪ for u, ⊂ for c): a
		// letter of no script, read as Latin where a word needs it.
		u.cls = clsLetter
	case lr == '€':
		u.cls = clsLeet
	default:
		u.cls = clsOther
	}
	z.push(u)
}

// afterEmoji reports whether the last unit is something an emoji joiner may
// follow.
func (z *Normalizer) afterEmoji() bool {
	n := len(z.units)
	return n > 0 && emojiBase(&z.units[n-1])
}

// emojiBase reports whether an emoji joiner may follow u: a symbol, a
// keycap base (digit, #, *) or another joiner.
func emojiBase(u *unit) bool {
	r := u.r
	return u.flags&fJoiner != 0 || '0' <= r && r <= '9' || r == '#' || r == '*' ||
		r >= utf8.RuneSelf && unicode.In(r, unicode.So, unicode.Sk)
}

// afterSpace reports whether the text so far is empty or ends with a
// space: a combining mark there decorates nothing (Zalgo text puts them on
// spaces too).
func (z *Normalizer) afterSpace() bool {
	n := len(z.units)
	return n == 0 || z.units[n-1].cls == clsSpace
}

// afterFoldable reports whether the last unit is a letter whose combining
// marks the normal form drops: a Latin letter or a look-alike of one.
func (z *Normalizer) afterFoldable() bool {
	n := len(z.units)
	if n == 0 {
		return false
	}
	u := z.units[n-1]
	return u.cls == clsLetter && (u.flags&fLatin != 0 || u.look != 0)
}

// elementClass reports whether a unit may be one spelled-out letter: a
// letter, a digit ("y 0 u") or a mask ("f * c k"). Leet symbols are not, so
// that "a | b" and "a $ b" stay apart.
func elementClass(c uint8) bool {
	return c == clsLetter || c == clsDigit || c == clsMask
}

// wordClass reports whether a unit class belongs to words.
func wordClass(c uint8) bool {
	return c == clsLetter || c == clsDigit || c == clsNumber || c == clsMark || c == clsLeet || c == clsMask
}

// single reports whether unit i stands alone: a letter (or leet character)
// with no word character on either side.
func (z *Normalizer) single(i int) bool {
	u := z.units
	return i < len(u) && elementClass(u[i].cls) &&
		(i == 0 || !wordClass(u[i-1].cls) && !z.innerApostrophe(i-1)) &&
		(i+1 == len(u) || !wordClass(u[i+1].cls) && !z.innerApostrophe(i+1))
}

// innerApostrophe reports whether unit i is an apostrophe inside a word, a
// word character on each side ("a'0", "I'm"): a letter beside it belongs to
// that word and does not stand alone. (A spelled-out apostrophe, "w e ' r
// e", has spaces on both sides; a quotation mark, "'k y s'", on one.)
func (z *Normalizer) innerApostrophe(i int) bool {
	u := z.units
	return i > 0 && i+1 < len(u) && isApostrophe(u[i].r) && wordClass(u[i-1].cls) && wordClass(u[i+1].cls)
}

// spacedApostrophe reports whether unit i is an apostrophe spelled out
// between single letters ("w e ' r e", "m o n t h ' s"): it belongs to the
// chain, so the word keeps it ("we're", "month's") instead of splitting.
func (z *Normalizer) spacedApostrophe(i int) bool {
	u := z.units
	return i+2 < len(u) && isApostrophe(u[i].r) && u[i-1].r == ' ' && u[i+1].r == ' ' &&
		z.sepRun(i+1) == 1 && z.single(i+2)
}

func isApostrophe(r rune) bool { return r == '\'' || r == '’' }

// sepRun returns how many units from i on are separators of spelled-out
// letters, counting at most 4.
func (z *Normalizer) sepRun(i int) int {
	n := 0
	for i+n < len(z.units) && n < 4 && isJoinSeparator(z.units[i+n].r) {
		n++
	}
	return n
}

// join removes the separators of letters spelled out one by one: three or
// more single letters (or digits and masks, at least two of them letters)
// separated by the same separator of one to three characters drawn from
// spaces, dots, dashes and underscores. "k y s", "k.y.s" and "i - d - i - o
// - t" become "kys", "kys" and "idiot"; "I a m" becomes "iam", a price
// accepted because three one-letter words in a row are rare in real text.
func (z *Normalizer) join() {
	u := z.units
	deleted := false
	for i := 0; i < len(u); {
		if !z.single(i) {
			i++
			continue
		}
		sep := i + 1
		l := z.sepRun(sep)
		if l == 0 || l > 3 || !z.single(sep+l) {
			i++
			continue
		}
		if l == 1 && u[sep].r == ' ' {
			// Spaced out with spaces: a chain of single letters, each
			// space one unit whatever its width. Spelled-out words are
			// set apart by wider spaces ("w e   j u s t   n e e d"):
			// when the widths differ, the narrowest separates letters
			// and a wider one ends a word, even a word of one letter.
			// The normal form writes every kept space as one, so a second
			// pass finds no chain of three and decides alike.
			last, elems, letters, narrow := i, 1, 0, u[sep].hi-u[sep].lo
			if u[i].cls == clsLetter {
				letters++
			}
			for {
				j := last + 1
				if z.sepRun(j) != 1 || u[j].r != ' ' || !z.single(j+1) && !z.spacedApostrophe(j+1) {
					break
				}
				if !isApostrophe(u[last].r) && !isApostrophe(u[j+1].r) {
					narrow = min(narrow, u[j].hi-u[j].lo)
				}
				last = j + 1
				elems++
				if u[last].cls == clsLetter {
					letters++
				}
			}
			if elems < 3 || letters < 2 {
				i++
				continue
			}
			for k := i + 1; k < last; k += 2 {
				// The spaces around a spelled-out apostrophe go whatever
				// their widths: the normal form keeps no widths, so a
				// second pass must find the apostrophe already joined.
				if u[k].hi-u[k].lo == narrow || isApostrophe(u[k-1].r) || isApostrophe(u[k+1].r) {
					u[k].flags |= fDeleted
					deleted = true
				}
			}
			z.joinSingles(i, last, narrow)
			i = last // the last letter may start a chain of another separator ("a  b_c_d")
			continue
		}
		last, elems, letters := i, 1, 0
		if u[i].cls == clsLetter {
			letters++
		}
		for {
			j := last + 1
			if z.sepRun(j) != l || !sameRunes(u[sep:sep+l], u[j:j+l]) || !z.single(j+l) {
				break
			}
			if l == 1 && u[j].r == ' ' && u[j].hi-u[j].lo != u[sep].hi-u[sep].lo && elems >= 3 && letters >= 2 {
				// Spelled-out words are often set apart by wider spaces
				// ("w a t c h  y o u r  b a c k"): a space of another
				// width ends a word long enough to join, and the next
				// starts after it. (A shorter one goes on, as it would
				// without the wider space: the normal form writes one
				// space, so a second pass must decide alike.)
				break
			}
			last = j + l
			elems++
			if u[last].cls == clsLetter {
				letters++
			}
		}
		if elems < 3 || letters < 2 {
			i++
			continue
		}
		for k := i + 1; k < last; k++ {
			if isJoinSeparator(u[k].r) && !elementClass(u[k].cls) {
				u[k].flags |= fDeleted
				deleted = true
			}
		}
		i = last + 1
	}
	if deleted {
		n := 0
		for _, x := range u {
			if x.flags&fDeleted == 0 {
				u[n] = x
				n++
			}
		}
		z.units = u[:n]
	}
}

// joinSingles joins the one-letter words that a chain of spaced-out
// letters from unit i to unit last leaves once its narrowest spaces are
// gone ("0 0  0  A  A" reads as "00", "0", "a", "a"): three or more of
// them in a row, at least two letters, are spelled out too, as a second
// pass over the normal form, which writes every space as one, would find.
func (z *Normalizer) joinSingles(i, last int, narrow int32) {
	u := z.units
	run, letters, start := 0, 0, i
	flush := func(end int) {
		if run >= 3 && letters >= 2 {
			for k := start + 1; k < end; k += 2 {
				u[k].flags |= fDeleted
			}
		}
	}
	for e := i; e <= last; e += 2 {
		alone := (e == i || u[e-1].hi-u[e-1].lo != narrow) && (e == last || u[e+1].hi-u[e+1].lo != narrow)
		if !alone {
			flush(e - 2)
			run, letters = 0, 0
			continue
		}
		if run == 0 {
			start = e
		}
		run++
		if u[e].cls == clsLetter {
			letters++
		}
	}
	flush(last)
}

func sameRunes(a, b []unit) bool {
	for i := range a {
		if a[i].r != b[i].r {
			return false
		}
	}
	return true
}

// tokenClass reports whether a unit belongs to a token for the word rules:
// letters, digits, marks and leet symbols, and emoji joiners, which like
// marks ride on the character before them (a keycap digit may turn out to
// be leet). Masks (* #) are left to the matcher.
func tokenClass(c uint8) bool {
	return c == clsLetter || c == clsDigit || c == clsNumber || c == clsMark || c == clsLeet || c == clsJoiner
}

// riding reports whether a unit class attaches to the character before it.
func riding(c uint8) bool { return c == clsMark || c == clsJoiner }

func (z *Normalizer) tokenEnd(s int) int {
	e := s
	for e < len(z.units) && tokenClass(z.units[e].cls) {
		e++
	}
	return e
}

// words applies the rules that depend on the whole word and on the whole
// message: leetspeak, look-alike letters, and stretched letters.
func (z *Normalizer) words() {
	u := z.units
	latinCtx, foreignCtx := false, false
	for s := 0; s < len(u); {
		if !tokenClass(u[s].cls) {
			s++
			continue
		}
		e := z.tokenEnd(s)
		z.leet(s, e)
		// A word that fold will read as Latin (its look-alikes, and masks
		// for the rest) is Latin context and not foreign: normalising the
		// result again sees it so.
		mapped, masked := foldPlan(u[s:e])
		latinCtx = latinCtx || mapped || masked
		for k := s; k < e && !masked; k++ {
			if u[k].cls == clsLetter {
				latinCtx = latinCtx || u[k].flags&fLatin != 0
				foreignCtx = foreignCtx || u[k].flags&fForeign != 0
			}
		}
		s = e
	}
	for s := 0; s < len(u); {
		if !tokenClass(u[s].cls) {
			s++
			continue
		}
		e := z.tokenEnd(s)
		z.fold(s, e, latinCtx && !foreignCtx)
		z.collapse(s, e)
		s = e
	}
}

// leet rewrites leetspeak inside the token u[s:e] when it has a letter.
// It decides run by run, a run being a maximal sequence of digits and leet
// symbols (@ $ ! | €). Its neighbours are letters or lie outside the token,
// and rewriting changes neither, so a second pass decides the same: the
// rule is idempotent by construction. A run is read as letters when
//
//   - it lies between two letters ("y0u", "n1663r", "sh!t", "b@stard"), or
//   - it touches a letter on one side and is at most two long ("h3ll0",
//     "a55", "a$$", "$hit", "|oser"), unless it holds @ ! or €, which must
//     be between letters ("hi!", "@john" stay);
//
// and never when a $ in it is followed by a digit ("US$50") or when its @
// belongs to an e-mail address. 1 stays 1 (the "i or l" marker), | becomes
// 1, and 2 stays 2.
func (z *Normalizer) leet(s, e int) {
	u := z.units
	hasLetter := false
	for k := s; k < e; k++ {
		if leetLetter(&u[k]) {
			hasLetter = true
			break
		}
	}
	if !hasLetter {
		return
	}
	leetish := func(k int) bool { return u[k].cls == clsDigit || u[k].cls == clsLeet }
	for k := s; k < e; {
		if !leetish(k) {
			k++
			continue
		}
		// The run takes in combining marks, and the letter before it may
		// carry some: marks after a letter are dropped once it is Latin,
		// and a second pass must see the same runs.
		m, n := k, 0
		between, price := false, false
		for ; m < e && (leetish(m) || riding(u[m].cls)); m++ {
			if !leetish(m) {
				continue
			}
			n++
			switch u[m].r {
			case '@', '!', '€':
				between = true
			case '$':
				next := m + 1
				for next < e && riding(u[next].cls) {
					next++
				}
				price = price || next < e && u[next].cls == clsDigit
			}
		}
		j := k - 1
		for j >= s && riding(u[j].cls) {
			j--
		}
		left := j >= s && leetLetter(&u[j])
		right := m < e && leetLetter(&u[m])
		email := between && e+1 < len(u) && u[e].r == '.' && u[e+1].cls == clsLetter
		unit := !left && right && numberUnit(u[k:m], u[m:e]) && z.capIOne(s, m, e) < 0
		if !price && !email && !unit && (left && right || !between && (left || right) && n <= 2) {
			for x := k; x < m; x++ {
				if leetish(x) {
					z.unleet(x)
				}
			}
		}
		k = m
	}
	// A capital I after a small letter in the same word is often an l in
	// disguise ("kiII"): mark it '1', "i or l".
	for k := z.capIOne(s, s, e); k >= 0; k = z.capIOne(s, k+1, e) {
		u[k].r, u[k].cls = '1', clsDigit
		u[k].flags |= fMapped
	}
}

// capIOne returns the first capital I in u[from:e] that the step above
// reads as '1' (a small letter comes before it in the token from s), or
// -1. The number-and-unit test asks it too: "0MI" in "a0MI" becomes "0m1",
// whose letters are not all letters, and a second pass must not see a unit
// the first did not.
func (z *Normalizer) capIOne(s, from, e int) int {
	u := z.units
	seenLower := false
	for k := s; k < e; k++ {
		if !leetLetter(&u[k]) || u[k].flags&fMapped != 0 {
			continue
		}
		switch {
		case u[k].flags&fCapI != 0 && seenLower:
			if k >= from {
				return k
			}
		case u[k].flags&fUpper == 0:
			seenLower = true
		}
	}
	return -1
}

// units are the letters that follow a number as its unit or multiplier:
// "10x", "24h", "5k", "3pm", "2gb", "13yo". Lower case.
var units = map[string]bool{
	"x": true, "k": true, "m": true, "b": true, "h": true, "hr": true, "hrs": true, "d": true, "w": true, "y": true, "yo": true,
	"yr": true, "yrs": true, "s": true, "sec": true, "secs": true, "min": true, "mins": true, "am": true, "pm": true,
	"kb": true, "mb": true, "gb": true, "tb": true, "g": true, "kg": true, "lb": true, "lbs": true, "km": true, "mi": true,
	"ml": true, "l": true, "cm": true, "mm": true, "ft": true, "p": true, "fps": true, "hz": true, "mph": true,
	"usd": true, "eur": true, "gbp": true, "btc": true, "eth": true, "usdt": true, "bnb": true, "sol": true, "xrp": true,
}

// numberUnit reports whether a run of digits at a word's start, followed
// only by the letters rest, is a number with its unit ("10x", "24h", "2nd")
// rather than leetspeak ("3vil"): the digits stay digits.
func numberUnit(run, rest []unit) bool {
	if len(rest) == 0 || len(rest) > 4 {
		return false
	}
	var b [4]byte
	for i := range rest {
		r := unicode.ToLower(rest[i].r)
		if rest[i].cls != clsLetter || r > unicode.MaxASCII {
			return false
		}
		b[i] = byte(r)
	}
	for i := range run {
		if run[i].cls != clsDigit {
			return false
		}
	}
	w := string(b[:len(rest)])
	last := run[len(run)-1].r
	teen := len(run) > 1 && run[len(run)-2].r == '1'
	switch w {
	case "st":
		return last == '1' && !teen
	case "nd":
		return last == '2' && !teen
	case "rd":
		return last == '3' && !teen
	case "th":
		return teen || last != '1' && last != '2' && last != '3'
	}
	return units[w]
}

// unleet reads the digit or leet symbol u[x] as the letter it stands for.
func (z *Normalizer) unleet(x int) {
	u := &z.units[x]
	var r rune
	switch u.r {
	case '1', '|':
		u.r, u.cls = '1', clsDigit
		u.flags |= fMapped
		return
	case '@':
		r = 'a'
	case '$':
		r = 's'
	case '!':
		r = 'i'
	case '€':
		r = 'e'
	default:
		r = leetDigit(u.r)
	}
	if r != 0 {
		u.r, u.cls, u.look = r, clsLetter, 0
		u.flags |= fMapped | fLatin
	}
}

// fold replaces look-alike letters by the Latin letters they imitate in a
// token that has a Latin letter, or whose letters are all look-alikes when
// allLook is set (the message has Latin letters and no letter of the
// look-alike scripts that imitates nothing). It then drops the combining
// marks and emoji joiners that now follow a Latin letter.
func (z *Normalizer) fold(s, e int, allLook bool) {
	u := z.units
	hasLook, onlyLook := false, true
	for k := s; k < e; k++ {
		if u[k].cls == clsNumber && u[k].look != 0 {
			hasLook = true // a digit of another script that looks like a letter (০, ٥)
			continue
		}
		if u[k].cls != clsLetter {
			continue
		}
		switch {
		case u[k].flags&fLatin != 0:
		case u[k].look != 0:
			hasLook = true
		default:
			onlyLook = false
		}
	}
	mapped, masked := foldPlan(u[s:e])
	if mapped || hasLook && onlyLook && allLook {
		for k := s; k < e; k++ {
			if (u[k].cls == clsLetter || u[k].cls == clsNumber) && u[k].look != 0 {
				u[k].cls = clsLetter
				u[k].r = u[k].look
				u[k].flags |= fLatin
				if u[k].r == '1' {
					u[k].cls = clsDigit
				}
			}
		}
	}
	// A Latin word with a few letters of another script that imitate no
	// Latin letter ("kվs", "ꜱէupid": fancy-text generators draw on every
	// script) is a disguised word: those letters become masks, which the
	// Matcher reads as any letter, as it reads "f*ck"; unlike a typed *,
	// also at the start or end of a word ("ʍiss"). A word that is
	// mostly of another script keeps its letters.
	if masked {
		for k := s; k < e; k++ {
			if u[k].cls == clsLetter && u[k].r >= utf8.RuneSelf {
				u[k].r, u[k].cls, u[k].look = unknownLetter, clsLetter, 0
			}
		}
	}
	prev := -1
	for k := s; k < e; k++ {
		if riding(u[k].cls) && prev >= 0 && u[prev].cls == clsLetter && u[prev].flags&fLatin != 0 {
			u[k].flags |= fDeleted
			continue
		}
		prev = k
	}
}

// collapse shortens runs of three or more identical letters (or '1's) to
// three: the first two and the last, so that the source span still covers
// the whole run. The matcher reads a run of three as "one or two".
func (z *Normalizer) collapse(s, e int) {
	u := z.units
	first, second, latest, n := 0, 0, 0, 0 // the current run
	for k := s; k < e; k++ {
		if u[k].flags&fDeleted != 0 {
			continue // removed marks do not break a run
		}
		if n > 0 && u[k].r == u[first].r {
			switch {
			case n == 1:
				second = k
			case latest != second:
				u[latest].flags |= fDeleted // drop the middle ones
			}
			latest = k
			n++
			continue
		}
		n = 0
		if u[k].cls == clsLetter || u[k].r == '1' {
			first, latest, n = k, k, 1
		}
	}
}

// output encodes the units into the next output buffer.
func (z *Normalizer) output(src string) Normalized {
	f := z.flip
	z.flip ^= 1
	buf, lo, hi := z.out[f][:0], z.lo[f][:0], z.hi[f][:0]
	var pending *unit // a space waiting for a following character
	var prev *unit    // the last unit written
	dropMark := false
	for i := range z.units {
		u := &z.units[i]
		if u.flags&fDeleted != 0 {
			continue
		}
		// Leetspeak may have turned a keycap digit into a letter: drop the
		// emoji joiners that no longer follow an emoji, and the marks after
		// them, as normalising the result again would.
		switch {
		case u.flags&fJoiner != 0 && (pending != nil || prev == nil || !emojiBase(prev)):
			dropMark = true
			continue
		case u.cls == clsMark && dropMark:
			continue
		}
		dropMark = false
		if u.cls == clsSpace {
			if len(buf) > 0 {
				pending = u
			}
			continue
		}
		if pending != nil {
			buf = append(buf, ' ')
			lo, hi = append(lo, pending.lo), append(hi, pending.hi)
			pending = nil
		}
		prev = u
		n := len(buf)
		if u.r < utf8.RuneSelf {
			buf = append(buf, byte(u.r))
		} else {
			buf = utf8.AppendRune(buf, u.r)
		}
		for range len(buf) - n {
			lo, hi = append(lo, u.lo), append(hi, u.hi)
		}
	}
	z.out[f], z.lo[f], z.hi[f] = buf, lo, hi
	n := Normalized{src: src, lo: lo, hi: hi}
	if len(buf) > 0 {
		n.Text = unsafe.String(unsafe.SliceData(buf), len(buf))
	}
	return n
}

// Shared is a Normalizer that remembers its last input and result, so that
// the detectors of one engine, which all read the same message text,
// normalise it once: a call with the very same string (the same bytes in
// memory, as every detector gets the message's Text) returns the previous
// result. Its contract is Normalizer.Normalize's: the result is valid until
// the next call that normalises something else. Its Match reads the
// normal form once for all their phrase matchers (see Shared.Match). The
// zero value is ready to use; it is not safe for concurrent use.
type Shared struct {
	z     Normalizer
	last  string // kept referenced, so no other string can take its memory
	res   Normalized
	valid bool
	match sharedMatch // see Match
}

// Normalize returns the normal form of s, computing it only when s is not
// the string of the previous call.
func (s *Shared) Normalize(str string) Normalized {
	if s.valid && len(str) == len(s.last) && unsafe.StringData(str) == unsafe.StringData(s.last) {
		return s.res
	}
	s.res, s.last, s.valid = s.z.Normalize(str), str, true
	s.match.nextText()
	return s.res
}

// mixedScripts reports whether the letters of a word come from two or more
// scripts (Han, Hiragana, Katakana and Hangul counting as one, since
// Japanese and Korean mix them): no language writes a word so, so the word
// is a disguise ("ᑰὂᾤп" for "down") and its look-alikes are read as Latin
// whatever the rest of the message is.
func mixedScripts(u []unit) bool {
	first := -1
	for k := range u {
		if u[k].cls != clsLetter || u[k].r == unknownLetter {
			continue // a letter nobody reads has no script (see foldPlan)
		}
		sc := scriptGroup(u[k].r, u[k].flags&fLatin != 0)
		switch {
		case first < 0:
			first = sc
		case sc != first:
			return true
		}
	}
	return false
}

// scriptGroups are the scripts that scriptGroup tells apart; a letter of
// none of them is in group len(scriptGroups)+1.
var scriptGroups = []*unicode.RangeTable{
	unicode.Greek, unicode.Cyrillic, unicode.Armenian, unicode.Georgian, unicode.Cherokee, unicode.Canadian_Aboriginal,
	unicode.Ethiopic, unicode.Coptic, unicode.Lisu, unicode.Vai, unicode.Tifinagh, unicode.Devanagari, unicode.Bengali,
	unicode.Gujarati, unicode.Gurmukhi, unicode.Tamil, unicode.Telugu, unicode.Kannada, unicode.Malayalam, unicode.Thai,
	unicode.Lao, unicode.Myanmar, unicode.Khmer, unicode.Arabic, unicode.Hebrew, unicode.Runic, unicode.Deseret,
	unicode.Osage, unicode.Bamum, unicode.Tai_Le, unicode.New_Tai_Lue, unicode.Mongolian, unicode.Sinhala, unicode.Tibetan,
}

var cjk = []*unicode.RangeTable{unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul}

func scriptGroup(r rune, latin bool) int {
	if latin || r < utf8.RuneSelf {
		return 0
	}
	if unicode.In(r, cjk...) {
		return 1
	}
	for i, t := range scriptGroups {
		if unicode.Is(t, r) {
			return i + 2
		}
	}
	return len(scriptGroups) + 2
}

// foldPlan decides, from a word's units before fold, whether fold reads its
// look-alikes as Latin whatever the message (mapped: the word has a Latin
// letter, or mixes scripts) and whether it then masks what is left
// (masked): a Latin word with a few letters no table reads ("kվs",
// "ꜱէupid": fancy-text generators draw on every script, and turned Latin
// letters such as ʇ ɘ ʎ have no base) is a disguised word, and those
// letters become unknownLetter, which the Matcher reads as any letter. A word mostly of
// letters nobody reads keeps them.
func foldPlan(u []unit) (mapped, masked bool) {
	hasLatin, hasLook, foreign := false, false, false
	for k := range u {
		if u[k].r >= utf8.RuneSelf && u[k].cls == clsLetter {
			foreign = true
		}
		switch {
		case u[k].cls == clsNumber && u[k].look != 0:
			hasLook = true
		case u[k].cls != clsLetter:
		case u[k].flags&fLatin != 0:
			hasLatin = true
		case u[k].look != 0:
			hasLook = true
		}
	}
	mapped = hasLook && (hasLatin || mixedScripts(u))
	if !foreign {
		return mapped, false // the common case: an ASCII word
	}
	ascii, other := 0, 0
	for k := range u {
		if k > 0 && u[k].r == u[k-1].r && u[k].look == u[k-1].look {
			continue // a run counts once: collapse shortens runs (a capital that looks Latin is another letter: "Вв")
		}
		switch {
		case u[k].r == unknownLetter:
			// Already unknown (an earlier pass, or invalid UTF-8): counts
			// neither way, so that a second pass decides as the first.
		case u[k].cls == clsLetter && (u[k].r < utf8.RuneSelf || mapped && u[k].look != 0 && u[k].flags&fLatin == 0):
			ascii++
		case u[k].cls == clsNumber && mapped && u[k].look != 0:
			ascii++
		case u[k].cls == clsLetter:
			other++
		}
	}
	return mapped, ascii > 0 && other > 0 && 2*other <= ascii+other
}

// leetLetter reports whether u is a letter for the leet rules: an unknown
// letter (see foldPlan) is not, since a masked digit becomes one and the
// rules must read the word alike on a second pass.
func leetLetter(u *unit) bool { return u.cls == clsLetter && u.r != unknownLetter }
