package generator_test

import (
	"fmt"
	"testing"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/builtin"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/generator"
)

// confusion counts message-level outcomes.
type confusion struct{ tp, fp, fn, tn int }

func (c confusion) precision() float64 { return ratio(c.tp, c.tp+c.fp) }
func (c confusion) recall() float64    { return ratio(c.tp, c.tp+c.fn) }
func (c confusion) String() string {
	return fmt.Sprintf("precision %.3f (%d/%d), recall %.3f (%d/%d)",
		c.precision(), c.tp, c.tp+c.fp, c.recall(), c.tp, c.tp+c.fn)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func (c *confusion) add(truth, predicted bool) {
	switch {
	case truth && predicted:
		c.tp++
	case predicted:
		c.fp++
	case truth:
		c.fn++
	default:
		c.tn++
	}
}

// TestDetectionOnGeneratedTraffic runs generated traffic through
// event.Decode and an Engine of every built-in detector, and checks the
// detectors against the generator's ground truth: every harmful category is
// found, and no benign message is flagged at medium severity or above.
//
// The numbers it logs measure the detectors against this generator, whose
// harmful and tricky texts were written alongside the rules; they show
// regressions, not how the detectors would do on real traffic.
func TestDetectionOnGeneratedTraffic(t *testing.T) {
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	factories, err := reg.Factories(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			set, err := detectors.LoadCheckedRules(factories, nil)
			if err != nil {
				t.Fatal(err)
			}
			eng, err := detectors.NewEngine(factories, set, detectors.EngineOptions{Clock: detectors.EventTime})
			if err != nil {
				t.Fatal(err)
			}
			g := generator.New(seed, generator.Options{BadRatio: 0.02})

			var medium, any confusion // message level: Harmful vs flagged
			rejected := 0
			convLabel := map[string]generator.Label{}
			convHarmful := map[string]bool{}
			convFound := map[string]bool{} // a medium+ flag of the conversation's own category
			flagsByCat := map[detectors.Category]int{}
			wrongCategory, lowOnBenign := 0, 0
			escalations := 0
			var flags []detectors.Flag
			for i := range 5000 {
				ev := g.Next()
				m, err := event.Decode(ev.Value)
				if ev.Bad {
					if err == nil {
						t.Fatalf("event %d (%s) accepted", i, ev.BadKind)
					}
					rejected++
					continue
				}
				if err != nil {
					t.Fatalf("event %d rejected: %v", i, err)
				}
				flags = eng.Inspect(m, flags[:0], nil)
				flaggedMedium := false
				for _, f := range flags {
					if f.Severity.Rank() >= detectors.Medium.Rank() {
						flaggedMedium = true
						flagsByCat[f.Category]++
						if string(f.Category) == string(ev.Label) {
							convFound[m.ConversationID] = true
						} else {
							wrongCategory++
						}
					}
					if f.Rule == "harassment.escalation" {
						escalations++
					}
					if ev.Label == generator.LabelBenign {
						if f.Severity.Rank() >= detectors.Medium.Rank() {
							t.Errorf("benign message flagged %s by %s/%s: %q", f.Severity, f.Detector, f.Rule, m.Text)
						} else {
							lowOnBenign++
						}
					}
				}
				medium.add(ev.Harmful, flaggedMedium)
				any.add(ev.Harmful, len(flags) > 0)
				convLabel[m.ConversationID] = ev.Label
				convHarmful[m.ConversationID] = convHarmful[m.ConversationID] || ev.Harmful
			}

			total, found := map[generator.Label]int{}, map[generator.Label]int{}
			for id, l := range convLabel {
				if l == generator.LabelBenign || !convHarmful[id] {
					continue // benign, or harmful but cut off before its first harmful line
				}
				total[l]++
				if convFound[id] {
					found[l]++
				}
			}
			for _, l := range []generator.Label{generator.LabelHarassment, generator.LabelSpam, generator.LabelGrooming} {
				if total[l] == 0 {
					t.Errorf("no %s conversation in the traffic", l)
					continue
				}
				if found[l] == 0 {
					t.Errorf("none of %d %s conversations flagged in their category", total[l], l)
				}
				// Regression floor, well under what the rules achieve today.
				if r := ratio(found[l], total[l]); r < 0.6 {
					t.Errorf("%s conversation recall %.2f (%d/%d), want at least 0.6", l, r, found[l], total[l])
				}
				t.Logf("%-10s conversations flagged in category (medium+): %d/%d = %.3f", l, found[l], total[l], ratio(found[l], total[l]))
			}
			if escalations == 0 {
				t.Error("the harassment escalation rule never fired")
			}
			if medium.precision() < 0.9 {
				t.Errorf("message precision at medium+ %.3f, want at least 0.9", medium.precision())
			}
			t.Logf("messages, medium+ flag vs harmful: %v", medium)
			t.Logf("messages, any flag vs harmful:     %v", any)
			t.Logf("medium+ flags by category %v; in another category than the conversation's: %d; escalations %d; low flags on benign messages %d; rejected %d",
				flagsByCat, wrongCategory, escalations, lowOnBenign, rejected)
		})
	}
}
