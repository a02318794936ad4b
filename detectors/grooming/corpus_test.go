package grooming_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/grooming"
	"github.com/goshawk-safety/goshawk/detectors/grooming/corpus"
)

type corpusConv = corpus.Conversation

func readCorpus(t testing.TB) []*corpusConv {
	t.Helper()
	convs, err := corpus.Load("testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	return convs
}

// runConv runs one conversation through a fresh detector and returns its
// findings, per message.
func runConv(t testing.TB, d detectors.Detector, c *corpusConv) [][]detectors.Finding {
	t.Helper()
	out := make([][]detectors.Finding, len(c.Events))
	for i, m := range c.Events {
		out[i] = d.Inspect(m, nil)
	}
	return out
}

func newBuiltin(t testing.TB) *grooming.Detector {
	t.Helper()
	return newWith(t, grooming.DefaultOptions())
}

// Thresholds of the labelled corpus, conversation level, at medium or above.
const (
	minRecall       = 0.9
	maxFPR          = 0.1
	minEarlyMeeting = 0.9 // of detected conversations with a meeting request: medium+ strictly before it
)

// TestCorpus runs every labelled conversation through a fresh detector and
// measures, at medium severity or above: recall over the grooming
// conversations, the false-positive rate over the hard negatives, and how
// early the first flag comes (its message number against the
// conversation's length and against the meeting request). It also checks
// that each detected grooming conversation with a meeting request (all of
// them aimed at a minor) ends at high or above. Print with:
//
//	go test ./detectors/grooming -run Corpus -v
//
// The corpus was written by the people who wrote the rules, so the numbers
// say more about regressions than about real traffic.
func TestCorpus(t *testing.T) {
	corpus := readCorpus(t)
	var pos, neg int
	for _, c := range corpus {
		if c.Grooming() {
			pos++
		} else {
			neg++
		}
	}
	var tp, fp, withMeeting, early int
	var b strings.Builder
	fmt.Fprintf(&b, "%-34s %-8s %5s %8s %9s %-9s %5s %s\n", "conversation", "label", "msgs", "first", "meeting", "highest", "risk", "flags (message: rule)")
	for _, c := range corpus {
		d := newBuiltin(t)
		first, highest, maxRisk := 0, detectors.Severity(""), 0.0
		var flags []string
		for i, m := range c.Events {
			fs := d.Inspect(m, nil)
			maxRisk = max(maxRisk, d.RiskAt(m))
			for _, f := range fs {
				if f.Severity.Rank() < detectors.Medium.Rank() {
					continue
				}
				if first == 0 {
					first = i + 1
				}
				if f.Severity.Rank() > highest.Rank() {
					highest = f.Severity
				}
				flags = append(flags, fmt.Sprintf("%d:%s", i+1, strings.TrimPrefix(f.Rule, "grooming.")))
				if f.Evidence == "" || len(f.Evidence) > detectors.MaxEvidenceBytes {
					t.Errorf("%s: %s evidence of %d bytes", c.Name, f.Rule, len(f.Evidence))
				}
			}
		}
		rel := "-"
		if first > 0 {
			rel = fmt.Sprintf("%d (%.0f%%)", first, 100*float64(first)/float64(len(c.Events)))
		}
		meet := "-"
		if c.Meeting > 0 {
			meet = strconv.Itoa(c.Meeting)
			if first > 0 {
				meet += fmt.Sprintf(" (%+d)", first-c.Meeting)
			}
		}
		fmt.Fprintf(&b, "%-34s %-8s %5d %8s %9s %-9s %5.2f %s\n", c.Name, c.Label, len(c.Events), rel, meet, highest, maxRisk, strings.Join(flags, " "))
		switch {
		case c.Grooming() && first > 0:
			tp++
			if c.Meeting > 0 {
				withMeeting++
				if first < c.Meeting {
					early++
				}
				if highest.Rank() < detectors.High.Rank() {
					t.Errorf("%s: a meeting request to a minor, but the conversation ends at %s", c.Name, highest)
				}
			}
		case !c.Grooming() && first > 0:
			fp++
		}
	}
	recall := float64(tp) / float64(max(1, pos))
	fpr := float64(fp) / float64(max(1, neg))
	earliness := float64(early) / float64(max(1, withMeeting))
	fmt.Fprintf(&b, "recall %.3f (%d/%d), false-positive rate %.3f (%d/%d) at medium+; medium+ before the meeting request in %d of %d detected conversations with one (%.3f)\n",
		recall, tp, pos, fpr, fp, neg, early, withMeeting, earliness)
	t.Log("\n" + b.String())
	if len(corpus) < 40 || pos < 18 || neg < 18 {
		t.Errorf("corpus has %d conversations (%d grooming, %d benign); want at least 40, about half of each", len(corpus), pos, neg)
	}
	if recall < minRecall || fpr > maxFPR || earliness < minEarlyMeeting {
		t.Errorf("recall %.3f (want ≥ %.2f), false-positive rate %.3f (want ≤ %.2f), early %.3f (want ≥ %.2f)",
			recall, minRecall, fpr, maxFPR, earliness, minEarlyMeeting)
	}
}
