package detectors_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/text"
	"github.com/goshawk-safety/goshawk/event"
)

func TestFlagIDIsDeterministicAndUnambiguous(t *testing.T) {
	a := detectors.FlagID("m-1", "keyword", "rule")
	if a != detectors.FlagID("m-1", "keyword", "rule") {
		t.Fatal("same inputs gave different ids")
	}
	if len(a) != 32 {
		t.Fatalf("id %q is not 32 hex characters", a)
	}
	// Length-prefixing keeps concatenation ambiguities apart.
	others := [][3]string{{"m-1k", "eyword", "rule"}, {"m-1", "keywor", "drule"}, {"m-2", "keyword", "rule"}, {"m-1", "keyword", "rule2"}}
	for _, o := range others {
		if detectors.FlagID(o[0], o[1], o[2]) == a {
			t.Errorf("FlagID%v collides with FlagID(m-1, keyword, rule)", o)
		}
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct {
		text       string
		start, end int
		context    int
		want       string
	}{
		{"hello there you", 6, 11, 3, "…lo there yo…"},
		{"short", 0, 5, 40, "short"},
		{"héllo wörld", 0, 6, 2, "héllo w…"},         // context counted in characters, cut at boundaries
		{"abc", 5, 9, 2, "ab…"},                      // out of range: the start of the text, never a panic
		{"日本語のテキスト", 3, 6, 1, "日本語…"},                // multi-byte runes on both sides
		{strings.Repeat("x", 100), 50, 51, 0, "…x…"}, // zero context
		{"end of text", 7, 11, 100, "end of text"},   // context beyond both ends
		{"abc", 2, 1, 1, "a…"},                       // start > end treated as empty
	}
	for _, tc := range tests {
		if got := detectors.Excerpt(tc.text, tc.start, tc.end, tc.context); got != tc.want {
			t.Errorf("Excerpt(%q, %d, %d, %d) = %q, want %q", tc.text, tc.start, tc.end, tc.context, got, tc.want)
		}
	}
}

// fixed is a detector that reports one finding per message containing "x".
type fixed struct{ evidence string }

func (fixed) Name() string { return "fixed" }
func (f fixed) Inspect(m *event.Message, out []detectors.Finding) []detectors.Finding {
	if i := strings.Index(m.Text, "x"); i >= 0 {
		out = append(out, detectors.Finding{Rule: "has-x", Category: detectors.Spam, Severity: detectors.High, Score: 1.7, Start: i, End: i + 1, Evidence: f.evidence})
	}
	return out
}

func TestEngineFillsFlags(t *testing.T) {
	sent := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	m := &event.Message{MessageID: "m-9", ConversationID: "c-3", SentAt: sent, Sender: event.Participant{ID: "u-1"},
		Recipients: []event.Participant{{ID: "u-2"}, {ID: "u-3"}}, Text: "a long message with an x in the middle of it"}
	for _, tc := range []struct {
		name, evidence, want string
	}{
		{"excerpt", "", "…an x in…"},
		{"detector evidence, bounded", strings.Repeat("é", detectors.MaxEvidenceBytes), strings.Repeat("é", detectors.MaxEvidenceBytes/2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := detectors.NewEngine([]detectors.Factory{{Name: "fixed", New: func([]*detectors.Rule) (detectors.Detector, error) { return fixed{tc.evidence}, nil }}}, nil,
				detectors.EngineOptions{Clock: detectors.EventTime, EvidenceContext: 3})
			if err != nil {
				t.Fatal(err)
			}
			flags := e.Inspect(m, nil, nil)
			if len(flags) != 1 {
				t.Fatalf("got %d flags, want 1", len(flags))
			}
			f := flags[0]
			if f.FlagID != detectors.FlagID("m-9", "fixed", "has-x") || f.MessageID != "m-9" || f.ConversationID != "c-3" ||
				f.SenderID != "u-1" || strings.Join(f.RecipientIDs, ",") != "u-2,u-3" || f.Detector != "fixed" ||
				f.Rule != "has-x" || f.Category != detectors.Spam || f.Severity != detectors.High ||
				!f.SentAt.Equal(sent) || !f.DetectedAt.Equal(sent) {
				t.Errorf("flag fields wrong: %+v", f)
			}
			if f.Score != 1 {
				t.Errorf("score %v not clamped to 1", f.Score)
			}
			if f.Evidence != tc.want {
				t.Errorf("evidence %q, want %q", f.Evidence, tc.want)
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	newFixed := func([]*detectors.Rule) (detectors.Detector, error) { return fixed{}, nil }
	if _, err := detectors.NewRegistry(detectors.Factory{Name: "a", New: newFixed}, detectors.Factory{Name: "a", New: newFixed}); err == nil {
		t.Error("duplicate names accepted")
	}
	for _, bad := range []string{"", "Upper", "two words", "a,b"} {
		if _, err := detectors.NewRegistry(detectors.Factory{Name: bad, New: newFixed}); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	if _, err := detectors.NewRegistry(detectors.Factory{Name: "nonew"}); err == nil {
		t.Error("factory without constructor accepted")
	}
	r, err := detectors.NewRegistry(detectors.Factory{Name: "a", New: newFixed}, detectors.Factory{Name: "b", New: newFixed})
	if err != nil {
		t.Fatal(err)
	}
	if all, _ := r.Factories(nil); len(all) != 2 {
		t.Errorf("Factories(nil) = %d factories, want all 2", len(all))
	}
	if one, _ := r.Factories([]string{"b"}); len(one) != 1 || one[0].Name != "b" {
		t.Errorf("Factories([b]) = %v", one)
	}
	if _, err := r.Factories([]string{"c"}); err == nil || !strings.Contains(err.Error(), "known: a, b") {
		t.Errorf("unknown detector error %v does not list the known ones", err)
	}
	failing := detectors.Factory{Name: "f", New: func([]*detectors.Rule) (detectors.Detector, error) { return nil, errors.New("boom") }}
	if _, err := detectors.NewEngine([]detectors.Factory{failing}, nil, detectors.EngineOptions{}); err == nil || !strings.Contains(err.Error(), "detector f") {
		t.Errorf("engine error %v does not name the detector", err)
	}
}

func TestParseCategoryAndSeverity(t *testing.T) {
	for _, c := range detectors.Categories {
		if got, err := detectors.ParseCategory(string(c)); err != nil || got != c {
			t.Errorf("ParseCategory(%q) = %q, %v", c, got, err)
		}
	}
	if _, err := detectors.ParseCategory("fraud"); err == nil {
		t.Error("ParseCategory accepted fraud")
	}
	for i, s := range detectors.Severities {
		if s.Rank() != i+1 {
			t.Errorf("%s.Rank() = %d, want %d", s, s.Rank(), i+1)
		}
	}
	if _, err := detectors.ParseSeverity("urgent"); err == nil {
		t.Error("ParseSeverity accepted urgent")
	}
}

type sharer struct {
	name string
	z    *text.Shared
}

func (s *sharer) Name() string                                                    { return s.name }
func (s *sharer) Inspect(*event.Message, []detectors.Finding) []detectors.Finding { return nil }
func (s *sharer) ShareText(z *text.Shared)                                        { s.z = z }

// Every detector that normalises text gets the engine's one normaliser, on
// start and when a reload rebuilds it.
func TestEngineSharesTheNormalizer(t *testing.T) {
	var built []*sharer
	factory := func(name string) detectors.Factory {
		return detectors.Factory{Name: name, New: func([]*detectors.Rule) (detectors.Detector, error) {
			s := &sharer{name: name}
			built = append(built, s)
			return s, nil
		}}
	}
	e, err := detectors.NewEngine([]detectors.Factory{factory("a"), factory("b")}, nil, detectors.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if built[0].z == nil || built[0].z != built[1].z {
		t.Fatalf("detectors got normalisers %p and %p, want one shared", built[0].z, built[1].z)
	}
	if err := e.Reload(&detectors.RuleSet{}); err != nil {
		t.Fatal(err)
	}
	if len(built) != 4 || built[2].z != built[0].z || built[3].z != built[0].z {
		t.Fatalf("after a reload: %d detectors built, normaliser not shared", len(built))
	}
}
