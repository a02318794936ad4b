package grooming_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/grooming"
	"github.com/goshawk-safety/goshawk/event"
)

// A labelled conversation of testdata/corpus/*.yaml:
//
//	label: grooming            # or benign (a hard negative)
//	kind: fast (one evening), declared ages
//	start: 2026-01-09T18:40:00Z
//	ages: {rik: 34, mia: 13}   # declared ages; a person not listed declares none
//	meeting: 26                # 1-based message number of the first in-person meeting request; 0 for none
//	messages:
//	  - [rik, 0, "hey"]        # sender, time since the previous message (s, m, h, d), text
//
// Every person who writes is a participant, and each message goes to all
// the others.
type corpusConv struct {
	Name     string
	Label    string         `yaml:"label"`
	Kind     string         `yaml:"kind"`
	Start    time.Time      `yaml:"start"`
	Ages     map[string]int `yaml:"ages"`
	Meeting  int            `yaml:"meeting"`
	Messages [][]string     `yaml:"messages"`
	events   []*event.Message
}

func (c *corpusConv) grooming() bool { return c.Label == "grooming" }

// parseAfter reads 0, 30s, 5m, 2h or 3d.
func parseAfter(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		return time.Duration(n) * 24 * time.Hour, err
	}
	return time.ParseDuration(s)
}

func readCorpus(t testing.TB) []*corpusConv {
	t.Helper()
	files, err := filepath.Glob("testdata/corpus/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("corpus: %v (%d files)", err, len(files))
	}
	var out []*corpusConv
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := &corpusConv{Name: strings.TrimSuffix(filepath.Base(f), ".yaml")}
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := c.build(); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, c)
	}
	return out
}

func (c *corpusConv) build() error {
	switch {
	case c.Label != "grooming" && c.Label != "benign":
		return fmt.Errorf("label %q: want grooming or benign", c.Label)
	case len(c.Messages) < 10 || len(c.Messages) > 60:
		return fmt.Errorf("%d messages, want 10 to 60", len(c.Messages))
	case c.Meeting < 0 || c.Meeting > len(c.Messages):
		return fmt.Errorf("meeting %d out of range", c.Meeting)
	case c.Meeting > 0 && !c.grooming():
		return fmt.Errorf("meeting is only labelled in grooming conversations")
	case c.Start.IsZero() || c.Kind == "":
		return fmt.Errorf("start and kind are required")
	}
	var people []string
	for _, m := range c.Messages {
		if len(m) != 3 {
			return fmt.Errorf("message %v: want [from, after, text]", m)
		}
		if !slices.Contains(people, m[0]) {
			people = append(people, m[0])
		}
	}
	for p := range c.Ages {
		if !slices.Contains(people, p) {
			return fmt.Errorf("ages: %s writes nothing", p)
		}
	}
	participant := func(id string) event.Participant {
		p := event.Participant{ID: id}
		if a, ok := c.Ages[id]; ok {
			p.Age = &a
		}
		return p
	}
	at := c.Start
	for i, m := range c.Messages {
		after, err := parseAfter(m[1])
		if err != nil {
			return fmt.Errorf("message %d: after %q: %v", i+1, m[1], err)
		}
		at = at.Add(after)
		ev := &event.Message{
			MessageID: fmt.Sprintf("%s-m%d", c.Name, i+1), ConversationID: c.Name, SentAt: at,
			Sender: participant(m[0]), Text: m[2],
		}
		for _, p := range people {
			if p != m[0] {
				ev.Recipients = append(ev.Recipients, participant(p))
			}
		}
		c.events = append(c.events, ev)
	}
	return nil
}

// runConv runs one conversation through a fresh detector and returns its
// findings, per message.
func runConv(t testing.TB, d detectors.Detector, c *corpusConv) [][]detectors.Finding {
	t.Helper()
	out := make([][]detectors.Finding, len(c.events))
	for i, m := range c.events {
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
		if c.grooming() {
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
		for i, m := range c.events {
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
			rel = fmt.Sprintf("%d (%.0f%%)", first, 100*float64(first)/float64(len(c.events)))
		}
		meet := "-"
		if c.Meeting > 0 {
			meet = strconv.Itoa(c.Meeting)
			if first > 0 {
				meet += fmt.Sprintf(" (%+d)", first-c.Meeting)
			}
		}
		fmt.Fprintf(&b, "%-34s %-8s %5d %8s %9s %-9s %5.2f %s\n", c.Name, c.Label, len(c.events), rel, meet, highest, maxRisk, strings.Join(flags, " "))
		switch {
		case c.grooming() && first > 0:
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
		case !c.grooming() && first > 0:
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
