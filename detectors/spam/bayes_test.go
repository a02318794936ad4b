package spam

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/goshawk-safety/goshawk/detectors/grooming/corpus"
	"github.com/goshawk-safety/goshawk/detectors/text"
)

// The shipped seed model is what learnSeed makes of the project's own
// corpora; go test -run BayesSeed -update-seed rewrites it after they
// change.
var updateSeed = flag.Bool("update-seed", false, "rewrite bayes_seed.json from testdata/corpus.jsonl")

func TestBayesSeedUpToDate(t *testing.T) {
	m := learnSeed(t)
	var b bytes.Buffer
	if err := m.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if *updateSeed {
		if err := os.WriteFile("bayes_seed.json", b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(b.Bytes(), bayesSeed) {
		t.Fatalf("bayes_seed.json is not what the corpora learn (%d spam, %d ham, %d words): run go test ./detectors/spam -run BayesSeed -update-seed", m.Spam, m.Ham, len(m.Tokens))
	}
	if _, err := ParseBayesModel(b.Bytes()); err != nil {
		t.Fatal(err)
	}
}

// learnSeed learns the seed: the spam corpus (spam and the chat around
// it), and as more ham every message of the harassment and grooming
// corpora (abuse, hard negatives, everyday chat: none of it spam). The
// blind corpora are never learnt.
func learnSeed(t *testing.T) *BayesModel {
	t.Helper()
	tr := NewBayesTrainer()
	f, err := os.Open("testdata/corpus.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := tr.AddLabelled(f); err != nil {
		t.Fatal(err)
	}
	h, err := os.ReadFile("../harassment/testdata/corpus.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(h)), "\n") {
		var l struct{ Text string }
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatal(err)
		}
		tr.Add(l.Text, false)
	}
	convs, err := corpus.Load("../grooming/testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range convs {
		for _, m := range c.Events {
			tr.Add(m.Text, false)
		}
	}
	return tr.Model()
}

func testModel(t *testing.T) *bayesScorer {
	t.Helper()
	m := NewBayesModel()
	for i := 0; i < 20; i++ {
		m.Learn("claim your free bitcoin bonus now, limited offer, wallet verification needed", true)
		m.Learn("urgent: verify your wallet to claim the bonus", true)
		m.Learn("are we still on for football practice on saturday", false)
		m.Learn("can you bring the snacks for practice, thanks coach", false)
	}
	m.Learn("the bonus round of the quiz is on saturday", false)
	m.Prune()
	return compileBayes(m)
}

func TestBayesScore(t *testing.T) {
	b := testModel(t)
	for _, tc := range []struct {
		text     string
		min, max float64 // -1, -1: no probability
	}{
		{"claim your FREE b1tcoin bonus now", 0.95, 1},
		{"ｃｌａｉｍ your free bitcoin bonus now", 0.95, 1}, // the normal form reads full-width letters
		{"football practice on saturday, bring snacks", 0, 0.05},
		{"hello there", -1, -1},   // no clue known
		{"free football", -1, -1}, // two clues: too few
		{"", -1, -1},
	} {
		var sc bayesScratch
		p := b.score(text.Normalize(tc.text).Text, &sc)
		if p < tc.min || p > tc.max || (tc.min >= 0 && p < 0) {
			t.Errorf("%q: probability %.4f, want in [%g, %g]", tc.text, p, tc.min, tc.max)
		}
	}
}

func TestBayesWords(t *testing.T) {
	in := "win win 100 cash-prize ab a x1 " + strings.Repeat("y", 30) + " café ✨ñu"
	var got []string
	eachWord(in, func(start, end int, h uint64) {
		if h != hashWord(in[start:end]) {
			t.Errorf("%q: hash %x, want %x", in[start:end], h, hashWord(in[start:end]))
		}
		got = append(got, in[start:end])
	})
	want := []string{"win", "win", "cash", "prize", "ab", "x1", "café", "ñu"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("words %q, want %q", got, want)
	}
	n := 0
	eachWord(strings.Repeat("word ", 200), func(int, int, uint64) { n++ })
	if n != maxBayesTokens {
		t.Errorf("%d words read of 200, want the first %d", n, maxBayesTokens)
	}
}

func TestChi2Q(t *testing.T) {
	for _, tc := range []struct {
		x2   float64
		v    int
		want float64
	}{
		{0, 2, 1}, {2, 2, math.Exp(-1)}, {4, 4, 3 * math.Exp(-2)}, {1000, 30, 0},
	} {
		if got := chi2Q(tc.x2, tc.v); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("chi2Q(%g, %d) = %g, want %g", tc.x2, tc.v, got, tc.want)
		}
	}
}

func TestParseBayesModelErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"format":"x","spam":1,"ham":1,"tokens":{}}`, "format"},
		{`{"format":"goshawk-spam-bayes/1","spam":0,"ham":1,"tokens":{}}`, "needs both"},
		{`{"format":"goshawk-spam-bayes/1","spam":2,"ham":2,"tokens":{"a":[3,0]}}`, "outside"},
		{`{"format":"goshawk-spam-bayes/1","spam":2,"ham":2,"tokens":{},"extra":1}`, "unknown field"},
		{`not json`, "invalid"},
	} {
		if _, err := ParseBayesModel([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.in, err, tc.want)
		}
	}
}

// FuzzParseBayesModel: a model file never panics the parser, and a model
// that parses compiles and scores within [0, 1].
func FuzzParseBayesModel(f *testing.F) {
	f.Add(bayesSeed)
	f.Add([]byte(`{"format":"goshawk-spam-bayes/1","spam":2,"ham":3,"tokens":{"win":[2,0],"hi":[0,3]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseBayesModel(data)
		if err != nil {
			return
		}
		var sc bayesScratch
		p := compileBayes(m).score("win win hi free cash now claim", &sc)
		if p != -1 && !(p >= 0 && p <= 1) {
			t.Fatalf("probability %g", p)
		}
	})
}
