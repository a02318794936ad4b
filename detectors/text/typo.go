package text

// Typos returns the misspellings of one normalised word that a reader still
// reads as the word: two neighbouring letters swapped inside it ("idoit",
// "stuipd"), for words of five letters or more, and one letter dropped
// from inside it ("stupd", "anoying"), for words of six or more. The first
// and last letters stay: people misspell the middle of a word, and keeping
// the ends keeps most misspellings from being other words. Words with
// anything but the letters a to z have none. The caller removes those that
// are real words (a lexicon of one-edit neighbours of its terms).
func Typos(w string) []string {
	if len(w) < 5 {
		return nil
	}
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return nil
		}
	}
	var out []string
	add := func(v string) {
		if v == w {
			return
		}
		for _, o := range out {
			if o == v {
				return
			}
		}
		out = append(out, v)
	}
	b := []byte(w)
	for i := 1; i+2 < len(w); i++ {
		if b[i] == b[i+1] {
			continue
		}
		b[i], b[i+1] = b[i+1], b[i]
		add(string(b))
		b[i], b[i+1] = b[i+1], b[i]
	}
	if len(w) >= 6 {
		for i := 1; i+1 < len(w); i++ {
			add(w[:i] + w[i+1:])
		}
	}
	return out
}
