package keyword

// hit is the first match of one rule in one text.
type hit struct {
	rule       int
	start, end int  // byte offsets of the matched phrase in the original text
	quoted     bool // every matched word is inside quotation marks
}

// matcher finds rule matches in texts. It reuses its buffers between texts,
// so one matcher serves one goroutine.
type matcher struct {
	rs   *ruleset
	scan scanner
	hits []hit
	// seen[r] == gen marks rule r as already matched in the current text;
	// bumping gen clears every mark at once.
	seen []uint32
	gen  uint32
}

// newMatcher returns a matcher of rs. It takes over the buffers of prev,
// which may be nil and must not be used afterwards.
func newMatcher(rs *ruleset, prev *matcher) *matcher {
	m := &matcher{rs: rs, seen: make([]uint32, len(rs.rules))}
	if prev != nil {
		m.scan, m.hits = prev.scan, prev.hits[:0]
	}
	return m
}

// match returns the first match of each rule in text, in text order. The
// result is valid until the next call.
func (m *matcher) match(text string) []hit {
	m.hits = m.hits[:0]
	m.gen++
	if m.gen == 0 { // wrapped: old marks could collide
		clear(m.seen)
		m.gen = 1
	}
	m.scan.tokenize(text)
	toks := m.scan.tokens
	for i := range toks {
		cands := m.rs.index[string(m.scan.word(i))] // no allocation: map look-up by converted bytes
		for _, p := range cands {
			if m.seen[p.rule] == m.gen || i+len(p.words) > len(toks) {
				continue
			}
			if !m.wordsAt(i+1, p.words[1:]) || m.cancelled(p.rule, i) {
				continue
			}
			m.seen[p.rule] = m.gen
			last := i + len(p.words) - 1
			quoted := true
			for k := i; k <= last; k++ {
				quoted = quoted && toks[k].quoted
			}
			m.hits = append(m.hits, hit{rule: p.rule, start: toks[i].start, end: toks[last].end, quoted: quoted})
		}
	}
	return m.hits
}

// wordsAt reports whether the text's words from index i on begin with ws.
func (m *matcher) wordsAt(i int, ws []string) bool {
	if i < 0 || i+len(ws) > len(m.scan.tokens) {
		return false
	}
	for k, w := range ws {
		if string(m.scan.word(i+k)) != w {
			return false
		}
	}
	return true
}

// cancelled reports whether one of the rule's unless_after phrases ends
// right before word i.
func (m *matcher) cancelled(rule, i int) bool {
	for _, u := range m.rs.unless[rule] {
		if m.wordsAt(i-len(u), u) {
			return true
		}
	}
	return false
}
