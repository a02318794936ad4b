package harassment_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
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

func readCorpus(t testing.TB) []corpusEntry {
	t.Helper()
	f, err := os.Open("testdata/corpus.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusEntry
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		var e corpusEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("corpus.jsonl:%d: %v", line, err)
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
	fmt.Fprintf(&b, "corpus: %d messages (%d harassing, %d hard negatives)\n", len(corpus), pos, neg)
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
	t.Log(b.String())
	if precision < minPrecision || recall < minRecall {
		t.Errorf("precision %.3f, recall %.3f at medium+; want at least %.2f and %.2f", precision, recall, minPrecision, minRecall)
	}
}
