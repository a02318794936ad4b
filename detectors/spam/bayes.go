package spam

import (
	"bufio"
	"bytes"
	"cmp"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/goshawk-safety/goshawk/detectors/text"
)

// The Bayes rule (kind: bayes) scores a message's words against a token
// model learnt from labelled messages, as SpamAssassin's BAYES_* rules and
// SpamBayes do: each word known to the model has a spam probability
// (Robinson's f(w), which pulls rarely seen words towards 0.5); the
// fifteen words furthest from 0.5 are combined with Fisher's method (the
// chi-squared combination of SpamBayes) into the message's probability,
// and the highest band it reaches adds its weight to the score, named in
// the evidence (bayes_95 +2.0).
//
// The model is data: a seed shipped with the rules (bayes_seed.json,
// learnt from the project's own corpora: the spam corpus, and the
// harassment and grooming corpora as more ham; see TestBayesSeedUpToDate)
// or a file that `goshawk rules learn` wrote from analysts' verdicts. A model keeps only words seen in at least
// MinTokenMessages messages, so it holds no name, number or address that
// one conversation used.

//go:embed bayes_seed.json
var bayesSeed []byte

// BayesFormat names the model file format.
const BayesFormat = "goshawk-spam-bayes/1"

// Model bounds and the scoring constants of SpamBayes.
const (
	// MinTokenMessages is how many messages a word must be in to be kept.
	MinTokenMessages = 3
	maxBayesTokens   = 64   // distinct words read from one message
	bayesClues       = 15   // words combined per message
	minBayesClues    = 3    // fewer known words: no probability
	minClueDistance  = 0.1  // |f(w) - 0.5| below this: not a clue
	unknownStrength  = 0.45 // Robinson's s
	unknownProb      = 0.5  // Robinson's x
	minTokenBytes    = 2
	maxTokenBytes    = 24
)

// BayesModel is a token model: how many spam and ham messages it learnt
// from, and per word the number of spam and ham messages it was in.
type BayesModel struct {
	Format string            `json:"format"`
	Spam   int               `json:"spam"`
	Ham    int               `json:"ham"`
	Tokens map[string][2]int `json:"tokens"`
}

// NewBayesModel returns an empty model.
func NewBayesModel() *BayesModel {
	return &BayesModel{Format: BayesFormat, Tokens: map[string][2]int{}}
}

// Learn adds one message, spam or ham, to the model.
func (m *BayesModel) Learn(s string, spam bool) {
	i := 1
	if spam {
		m.Spam++
		i = 0
	} else {
		m.Ham++
	}
	var z text.Normalizer
	normal := z.Normalize(s).Text
	seen := map[string]bool{}
	eachWord(normal, func(start, end int, _ uint64) {
		tok := normal[start:end]
		if seen[tok] {
			return
		}
		seen[tok] = true
		c := m.Tokens[tok]
		c[i]++
		m.Tokens[tok] = c
	})
}

// Prune drops the words seen in fewer than MinTokenMessages messages.
func (m *BayesModel) Prune() {
	for tok, c := range m.Tokens {
		if c[0]+c[1] < MinTokenMessages {
			delete(m.Tokens, tok)
		}
	}
}

// WriteJSON writes the model, its words in sorted order (so that the same
// training gives the same file).
func (m *BayesModel) WriteJSON(w io.Writer) error {
	toks := make([]string, 0, len(m.Tokens))
	for t := range m.Tokens {
		toks = append(toks, t)
	}
	slices.Sort(toks)
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\"format\":%q,\"spam\":%d,\"ham\":%d,\"tokens\":{", BayesFormat, m.Spam, m.Ham)
	for i, t := range toks {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(t)
		c := m.Tokens[t]
		fmt.Fprintf(&b, "\n%s:[%d,%d]", k, c[0], c[1])
	}
	b.WriteString("\n}}\n")
	_, err := w.Write(b.Bytes())
	return err
}

// ParseBayesModel reads a model file; errors say what is wrong with it.
func ParseBayesModel(data []byte) (*BayesModel, error) {
	var m BayesModel
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("bayes model: %w", err)
	}
	switch {
	case m.Format != BayesFormat:
		return nil, fmt.Errorf("bayes model: format %q, want %q", m.Format, BayesFormat)
	case m.Spam <= 0 || m.Ham <= 0:
		return nil, fmt.Errorf("bayes model: learnt from %d spam and %d ham messages; it needs both", m.Spam, m.Ham)
	}
	for tok, c := range m.Tokens {
		if c[0] < 0 || c[1] < 0 || c[0] > m.Spam || c[1] > m.Ham {
			return nil, fmt.Errorf("bayes model: word %q: counts %v outside 0..%d spam, 0..%d ham", tok, c, m.Spam, m.Ham)
		}
	}
	return &m, nil
}

// bayesScorer is a compiled model: f(w) of every word that can be a clue,
// in an open-addressing table keyed by the word's FNV-1a hash, which the
// tokenizer computes as it reads the word (a map would hash it again; this
// runs on every message).
type bayesScorer struct {
	slots []bayesSlot
	mask  uint64
}

type bayesSlot struct {
	hash uint64 // 0: empty
	prob float64
}

func compileBayes(m *BayesModel) *bayesScorer {
	probs := map[uint64]float64{}
	ns, nh := float64(m.Spam), float64(m.Ham)
	for tok, c := range m.Tokens {
		s, h := float64(c[0]), float64(c[1])
		if s+h == 0 {
			continue
		}
		sr, hr := s/ns, h/nh
		p := sr / (sr + hr)
		n := s + h
		f := (unknownStrength*unknownProb + n*p) / (unknownStrength + n)
		if math.Abs(f-0.5) >= minClueDistance {
			if hv := hashWord(tok); hv != 0 {
				probs[hv] = f
			}
		}
	}
	size := 16
	for size < 2*len(probs) {
		size *= 2
	}
	b := &bayesScorer{slots: make([]bayesSlot, size), mask: uint64(size - 1)}
	for hv, f := range probs {
		i := hv & b.mask
		for b.slots[i].hash != 0 {
			i = (i + 1) & b.mask
		}
		b.slots[i] = bayesSlot{hash: hv, prob: f}
	}
	return b
}

func (b *bayesScorer) lookup(hv uint64) (float64, bool) {
	for i := hv & b.mask; ; i = (i + 1) & b.mask {
		switch b.slots[i].hash {
		case hv:
			return b.slots[i].prob, true
		case 0:
			return 0, false
		}
	}
}

// bayesScratch holds one goroutine's buffers.
type bayesScratch struct {
	seen  []uint64 // hashes of the clues found
	clues []float64
}

// score returns the spam probability of a normal form, or -1 when fewer
// than minBayesClues of its words are clues.
func (b *bayesScorer) score(normal string, sc *bayesScratch) float64 {
	sc.clues, sc.seen = sc.clues[:0], sc.seen[:0]
	eachWord(normal, func(_, _ int, hv uint64) {
		if f, ok := b.lookup(hv); ok && !slices.Contains(sc.seen, hv) {
			sc.seen = append(sc.seen, hv)
			sc.clues = append(sc.clues, f)
		}
	})
	if len(sc.clues) < minBayesClues {
		return -1
	}
	slices.SortFunc(sc.clues, func(x, y float64) int {
		return cmp.Compare(math.Abs(y-0.5), math.Abs(x-0.5))
	})
	clues := sc.clues[:min(len(sc.clues), bayesClues)]
	var lnS, lnH float64
	for _, f := range clues {
		lnS += math.Log(1 - f)
		lnH += math.Log(f)
	}
	n := 2 * len(clues)
	s := 1 - chi2Q(-2*lnS, n)
	h := 1 - chi2Q(-2*lnH, n)
	return (s - h + 1) / 2
}

// chi2Q is the probability that a chi-squared variable with v (even)
// degrees of freedom is at least x2.
func chi2Q(x2 float64, v int) float64 {
	m := x2 / 2
	term := math.Exp(-m)
	sum := term
	for i := 1; i < v/2; i++ {
		term *= m / float64(i)
		sum += term
	}
	return min(sum, 1)
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashWord(w string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(w); i++ {
		h = (h ^ uint64(w[i])) * fnvPrime
	}
	return h
}

// eachWord calls fn with the byte range and FNV-1a hash of each word of a
// normal form, for the first maxBayesTokens words: runs of letters and
// digits of minTokenBytes to maxTokenBytes bytes, not digits only. The
// normal form is already lower case and reads look-alikes and leet as
// letters, so "FR3E" and "ｆｒｅｅ" are one word.
func eachWord(s string, fn func(start, end int, hash uint64)) {
	words := 0
	for i := 0; i < len(s) && words < maxBayesTokens; {
		c := s[i]
		if c < utf8.RuneSelf && !asciiWordByte[c] {
			i++
			continue
		}
		start, letters, h := i, false, uint64(fnvOffset)
		for i < len(s) {
			c := s[i]
			if c < utf8.RuneSelf {
				if !asciiWordByte[c] {
					break
				}
				letters = letters || c > '9'
				h = (h ^ uint64(c)) * fnvPrime
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError || !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				break
			}
			letters = true
			for k := i; k < i+size; k++ {
				h = (h ^ uint64(s[k])) * fnvPrime
			}
			i += size
		}
		if i == start { // a character outside ASCII that is no letter or digit
			_, size := utf8.DecodeRuneInString(s[start:])
			i = start + size
			continue
		}
		words++
		if letters && i-start >= minTokenBytes && i-start <= maxTokenBytes && h != 0 {
			fn(start, i, h)
		}
	}
}

// asciiWordByte: the ASCII bytes of words (letters and digits).
var asciiWordByte = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	return t
}()

// bayesRule is the parsed Bayes rule: its bands (ascending), each a
// content rule of its own for the stages (keyed "<id>/<band name>"), and
// the compiled model (nil in the stages, which do not read text).
type bayesRule struct {
	source
	bands  []bayesBand
	scorer *bayesScorer
}

type bayesBand struct {
	at   float64
	rule *contentRule
}

// band returns the highest band probability p reaches, or nil.
func (b *bayesRule) band(p float64) *contentRule {
	var best *contentRule
	for _, x := range b.bands {
		if p >= x.at {
			best = x.rule
		}
	}
	return best
}

// A BayesTrainer learns a model from messages, each distinct text of a
// class once, so that a campaign repeated a thousand times is one message.
type BayesTrainer struct {
	model *BayesModel
	seen  map[string]bool
}

// NewBayesTrainer returns a trainer with an empty model.
func NewBayesTrainer() *BayesTrainer {
	return &BayesTrainer{model: NewBayesModel(), seen: map[string]bool{}}
}

// Add learns one message unless its text was learnt in that class before.
func (b *BayesTrainer) Add(text string, spam bool) {
	key := strconv.FormatBool(spam) + "\x00" + text
	if text == "" || b.seen[key] {
		return
	}
	b.seen[key] = true
	b.model.Learn(text, spam)
}

// AddLabelled learns labelled messages, one JSON object per line:
// {"spam": true, "message": {…an event…}} (the format of the detector's
// corpus, testdata/corpus.jsonl) or {"spam": false, "text": "…"}.
func (b *BayesTrainer) AddLabelled(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l struct {
			Spam    *bool  `json:"spam"`
			Text    string `json:"text"`
			Message struct {
				Text string `json:"text"`
			} `json:"message"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if l.Spam == nil {
			return fmt.Errorf("line %d: no \"spam\" label (true or false)", line)
		}
		t := l.Text
		if t == "" {
			t = l.Message.Text
		}
		b.Add(t, *l.Spam)
	}
	return sc.Err()
}

// Model returns the model learnt so far, pruned (MinTokenMessages).
func (b *BayesTrainer) Model() *BayesModel {
	b.model.Prune()
	return b.model
}
