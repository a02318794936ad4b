package harassment_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/harassment"
	"github.com/goshawk-safety/goshawk/event"
)

// Thresholds of the labelled corpus, at medium severity or above.
const (
	minPrecision = 0.95
	minRecall    = 0.85
)

// corpusEntry is one line of testdata/corpus.jsonl: a message, whether it
// harasses the recipient, and what it is (the harassment category and the
// evasion, or the kind of hard negative).
type corpusEntry struct {
	Text      string `json:"text"`
	Harassing bool   `json:"harassing"`
	Category  string `json:"category"`
	Kind      string `json:"kind"`
}

func readCorpus(t testing.TB) []corpusEntry { return readCorpusFile(t, "testdata/corpus.jsonl") }

func readCorpusFile(t testing.TB, path string) []corpusEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusEntry
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		var e corpusEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCorpus runs every message of the labelled corpus on its own (a
// two-person conversation of one message, so that only the message's own
// words count) and measures precision and recall of "flagged at medium or
// above" against the labels. It fails below minPrecision or minRecall, and
// prints the numbers, per category and per kind, with -v:
//
//	go test ./detectors/harassment -run Corpus -v
//
// The corpus was written by the people who wrote the rules, so the numbers
// say more about regressions than about real traffic.
func TestCorpus(t *testing.T) {
	corpus := readCorpus(t)
	var pos, neg int
	for _, e := range corpus {
		if e.Harassing {
			pos++
		} else {
			neg++
		}
	}
	if len(corpus) < 300 || pos < 150 || neg < 150 {
		t.Fatalf("corpus has %d messages (%d harassing, %d not); want at least 300, half of each", len(corpus), pos, neg)
	}
	r := scoreCorpus(t, corpus)
	t.Log(r.report)
	precision, recall := r.precision, r.recall
	if precision < minPrecision || recall < minRecall {
		t.Errorf("precision %.3f, recall %.3f at medium+; want at least %.2f and %.2f", precision, recall, minPrecision, minRecall)
	}
}

// corpusScore is how the detector did on a corpus, at medium or above.
type corpusScore struct {
	precision, recall float64
	report            string // the numbers per category and kind, every miss and false alarm
}

// scoreCorpus runs every message of corpus on its own (a two-person
// conversation of one message, so that only the message's own words count)
// through the built-in rules and scores "flagged at medium or above"
// against the labels.
func scoreCorpus(t *testing.T, corpus []corpusEntry) corpusScore {
	t.Helper()
	set, err := detectors.LoadRules([]detectors.Factory{harassment.Factory()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := harassment.New(set.For(harassment.Name))
	if err != nil {
		t.Fatal(err)
	}
	type tally struct{ tp, fp, fn, tn int }
	var all tally
	byKind := map[string]*tally{}
	var misses, falseAlarms []string
	at := time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC)
	for i, e := range corpus {
		m := &event.Message{
			MessageID: fmt.Sprintf("corpus-%d", i+1), ConversationID: fmt.Sprintf("corpus-%d", i+1),
			SentAt: at.Add(time.Duration(i) * time.Hour), Sender: event.Participant{ID: "a"},
			Recipients: []event.Participant{{ID: "b"}}, Text: e.Text,
		}
		var flagged []string
		for _, f := range d.Inspect(m, nil) {
			if f.Start < 0 || f.End > len(e.Text) || f.Start > f.End {
				t.Errorf("%q: finding %+v has offsets outside the text", e.Text, f)
				continue
			}
			if f.Severity.Rank() >= detectors.Medium.Rank() {
				flagged = append(flagged, fmt.Sprintf("%s/%s %q", f.Rule, f.Severity, e.Text[f.Start:f.End]))
			}
		}
		key := e.Kind
		if e.Harassing {
			key = e.Category + "/" + e.Kind
		} else {
			key = "negative/" + e.Kind
		}
		k := byKind[key]
		if k == nil {
			k = &tally{}
			byKind[key] = k
		}
		switch {
		case e.Harassing && len(flagged) > 0:
			all.tp++
			k.tp++
		case e.Harassing:
			all.fn++
			k.fn++
			misses = append(misses, fmt.Sprintf("%-28s %q", key, e.Text))
		case len(flagged) > 0:
			all.fp++
			k.fp++
			falseAlarms = append(falseAlarms, fmt.Sprintf("%-28s %q: %s", key, e.Text, strings.Join(flagged, ", ")))
		default:
			all.tn++
			k.tn++
		}
	}
	precision := float64(all.tp) / float64(max(1, all.tp+all.fp))
	recall := float64(all.tp) / float64(max(1, all.tp+all.fn))
	keys := make([]string, 0, len(byKind))
	for k := range byKind {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%d messages (%d harassing, %d hard negatives)\n", len(corpus), all.tp+all.fn, all.fp+all.tn)
	fmt.Fprintf(&b, "at medium+: precision %.3f (%d/%d), recall %.3f (%d/%d)\n", precision, all.tp, all.tp+all.fp, recall, all.tp, all.tp+all.fn)
	for _, k := range keys {
		c := byKind[k]
		if strings.HasPrefix(k, "negative/") {
			fmt.Fprintf(&b, "  %-28s %3d messages, %d flagged\n", k, c.fp+c.tn, c.fp)
		} else {
			fmt.Fprintf(&b, "  %-28s %3d messages, %d found\n", k, c.tp+c.fn, c.tp)
		}
	}
	slices.Sort(misses)
	slices.Sort(falseAlarms)
	fmt.Fprintf(&b, "missed (%d):\n  %s\n", len(misses), strings.Join(misses, "\n  "))
	fmt.Fprintf(&b, "flagged hard negatives (%d):\n  %s", len(falseAlarms), strings.Join(falseAlarms, "\n  "))
	return corpusScore{precision: precision, recall: recall, report: b.String()}
}

// The blind corpus reported (blindReported, testdata/blind/e) is held, at
// medium or above, to a floor below the targets of issue #18 (precision
// 0.90, recall 0.85), whose recall it does not meet. Corpus e (205 lines)
// was written on 2026-12-07 by a helper who never read the rules, before
// the frames added from d's misses (limbs "in your hand", property, "won't
// be able to walk", "don't think I won't", exposure to a named audience,
// animal comparisons, body remarks, prude-shaming, "you people", …), and
// never read: precision 0.941, recall 0.561 before them and 0.943, 0.579
// after. d (0.919, 0.374 before; 0.950, 0.835 after: its misses were read)
// is a development set now. Corpus f (210 lines) was written on
// 2026-12-07 (a later session) by another such helper, before the frames
// added from e's misses (self-harm as a suggestion, a relief to others or
// a favour; "get what's coming to you", "you'll pay for this"; knowing
// which school; less than an animal, a heap of rubbish, should not exist;
// permission to share and shares asked for are not exposure; "telling me
// to" as reported speech), and never read: precision 0.883, recall 0.505
// before them and 0.885, 0.514 after; alt-profanity-check on f 0.609,
// 0.267. e scores 0.987, 0.667 after (a development set now). f is the
// figure, below both targets. The floor stops regressions; raise it as the
// detector improves, and set it to the targets once they hold. Corpus g
// (210 lines) was written on 2026-12-07 (a third session) by another such
// helper, for the next detector change, and scored on the code before it:
// precision 0.862, recall 0.533; alt-profanity-check on it 0.490, 0.238
// (bash scripts/harassment-eval/profanity_check.sh). Nobody has read it.
const (
	blindReported     = "f"
	blindMinPrecision = 0.86 // target 0.90
	blindMinRecall    = 0.49 // target 0.85
)

// TestBlindCorpora scores the blind corpora, testdata/blind/*/corpus.jsonl:
// messages written by helpers who never read the rules, each corpus by
// another writer. Corpus a was scored before the rules changed and then used
// to find what the detector could not read, so it measures regression now;
// so do b, c and d, whose misses were read for the frames of 2026-12-06
// and 2026-12-07; e was written before the last of those and never read,
// and is held to the floor (blindMinPrecision, blindMinRecall). Nobody
// tunes to e.
//
//	go test ./detectors/harassment -run BlindCorpora -v
func TestBlindCorpora(t *testing.T) {
	dirs, err := filepath.Glob("testdata/blind/*/corpus.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no blind corpus under testdata/blind")
	}
	for _, path := range dirs {
		name := filepath.Base(filepath.Dir(path))
		t.Run(name, func(t *testing.T) {
			r := scoreCorpus(t, readCorpusFile(t, path))
			t.Log(r.report)
			if name == blindReported && (r.precision < blindMinPrecision || r.recall < blindMinRecall) {
				t.Errorf("precision %.3f, recall %.3f at medium+; want at least %.2f and %.2f", r.precision, r.recall, blindMinPrecision, blindMinRecall)
			}
		})
	}
}

// Targets of the obfuscated corpora (issue #18), at medium or above: recall
// by the share of letters an outside tool replaced, and precision
// throughout.
var obfuscatedTargetRecall = map[string]float64{"40": 0.80, "100": 0.50}

const obfuscatedTargetPrecision = 0.90

// obfuscatedFloor is what the test holds each file to where the target is
// not met yet (measured at the time of writing, a little below): npm
// confusables 1.1.1 draws its 3,088 look-alikes from scripts and symbols
// that TR39 does not list (confusables-100: recall 0.288, precision 0.855;
// confusables-40: 0.637, 0.966). The floor stops regressions; raise it as
// the reading improves and delete the entry once the target holds.
var obfuscatedFloor = map[string]struct{ recall, precision float64 }{
	"confusables-100": {0.27, 0.83},
	"confusables-40":  {0.62, 0.95},
}

// TestObfuscatedCorpora scores testdata/obfuscated/<tool>-<rate>.jsonl: the
// labelled corpus rewritten by published homoglyph and fancy-text tools
// (not ours) replacing rate% of the letters with the look-alikes they
// offer. scripts/harassment-eval/obfuscate.sh makes the files; see its
// README for the tools and their versions.
//
//	go test ./detectors/harassment -run ObfuscatedCorpora -v
func TestObfuscatedCorpora(t *testing.T) {
	files, err := filepath.Glob("testdata/obfuscated/*.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("%d obfuscated corpora under testdata/obfuscated; want two tools at two rates", len(files))
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".jsonl")
		rate := name[strings.LastIndexByte(name, '-')+1:]
		t.Run(name, func(t *testing.T) {
			r := scoreCorpus(t, readCorpusFile(t, path))
			t.Logf("precision %.3f, recall %.3f\n%s", r.precision, r.recall, r.report)
			want, ok := obfuscatedTargetRecall[rate]
			if !ok {
				t.Fatalf("%s: rate %q, want one of 40, 100", path, rate)
			}
			wantP := obfuscatedTargetPrecision
			if f, ok := obfuscatedFloor[name]; ok {
				t.Logf("%s: below the target (recall %.2f, precision %.2f); held to the floor %.2f, %.2f", name, want, wantP, f.recall, f.precision)
				want, wantP = f.recall, f.precision
			}
			if r.recall < want || r.precision < wantP {
				t.Errorf("precision %.3f, recall %.3f at medium+; want at least %.2f and %.2f", r.precision, r.recall, wantP, want)
			}
		})
	}
}
