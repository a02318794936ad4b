package spam

import (
	"fmt"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

// scenario builds the messages of a short story.
type scenario func() []*event.Message

func warm(conv, a, b string, at time.Time) []*event.Message {
	return []*event.Message{
		msgSpec{id: conv + "-h1", conv: conv, from: a, to: []string{b}, at: at.Add(-72 * time.Hour), text: "hey!"}.event(),
		msgSpec{id: conv + "-h2", conv: conv, from: b, to: []string{a}, at: at.Add(-71 * time.Hour), text: "hi, how are you?"}.event(),
	}
}

// TestHardNegatives: each benign pattern stays below medium, and its
// abusive twin (the same shape from a spammer) does not.
func TestHardNegatives(t *testing.T) {
	old := t0.Add(-3 * 365 * 24 * time.Hour)
	young := t0.Add(-2 * time.Hour)
	cases := []struct {
		name         string
		benign, twin scenario
	}{
		{
			"teacher's announcement to a class group, and a new account posting a scam to many strangers",
			func() []*event.Message {
				var class []string
				for i := range 25 {
					class = append(class, fmt.Sprintf("student%d", i))
				}
				return []*event.Message{msgSpec{id: "t1", conv: "class", from: "teacher", to: class, at: t0, created: old,
					text: "Reminder: the science trip is on Friday. Bring a packed lunch and the signed form, details here: https://www.example-school.org/trips"}.event()}
			},
			func() []*event.Message {
				var out []*event.Message
				for i := range 25 {
					out = append(out, msgSpec{id: fmt.Sprintf("x%d", i), conv: fmt.Sprintf("c%d", i), from: "bot", to: []string{fmt.Sprintf("u%d", i)}, at: t0.Add(time.Duration(i) * 30 * time.Second), created: young,
						text: "Reminder: claim your prize today, details here: bit.ly/abc"}.event())
				}
				return out
			},
		},
		{
			"friends sharing the same meme link, and a bot sending one link to strangers",
			func() []*event.Message {
				var out []*event.Message
				for i := range 30 {
					a, b, conv := fmt.Sprintf("f%d", i), fmt.Sprintf("g%d", i), fmt.Sprintf("m%d", i)
					out = append(out, warm(conv, a, b, t0)...)
					out = append(out, msgSpec{id: conv, conv: conv, from: a, to: []string{b}, at: t0.Add(time.Duration(i) * time.Minute), created: old, text: "lol look at this https://imgur.com/gallery/abc"}.event())
				}
				return out
			},
			func() []*event.Message {
				var out []*event.Message
				for i := range 30 {
					out = append(out, msgSpec{id: fmt.Sprintf("x%d", i), conv: fmt.Sprintf("c%d", i), from: "bot", to: []string{fmt.Sprintf("u%d", i)}, at: t0.Add(time.Duration(i) * 20 * time.Second), created: young,
						text: "lol look at this https://tinyurl.com/abc"}.event())
				}
				return out
			},
		},
		{
			"ok, thanks and lol from a hundred people, and a hundred messages of one scam",
			func() []*event.Message {
				var out []*event.Message
				for i := range 100 {
					conv := fmt.Sprintf("o%d", i)
					out = append(out, warm(conv, fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i), t0)...)
					out = append(out, msgSpec{id: conv, conv: conv, from: fmt.Sprintf("a%d", i), to: []string{fmt.Sprintf("b%d", i)}, at: t0.Add(time.Duration(i) * 10 * time.Second), created: old, text: []string{"ok", "thanks", "lol"}[i%3]}.event())
				}
				return out
			},
			func() []*event.Message {
				var out []*event.Message
				for i := range 100 {
					out = append(out, msgSpec{id: fmt.Sprintf("x%d", i), conv: fmt.Sprintf("c%d", i), from: fmt.Sprintf("bot%d", i%20), to: []string{fmt.Sprintf("u%d", i)}, at: t0.Add(time.Duration(i) * 10 * time.Second), created: t0.Add(-30 * 24 * time.Hour),
						text: "Double your bitcoin in 24 hours with our trading platform, guaranteed returns for every member"}.event())
				}
				return out
			},
		},
		{
			"delivery notices forwarded to family, and a fake delivery notice to strangers",
			func() []*event.Message {
				var out []*event.Message
				for i := range 40 {
					conv := fmt.Sprintf("d%d", i)
					out = append(out, warm(conv, fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i), t0)...)
					out = append(out, msgSpec{id: conv, conv: conv, from: fmt.Sprintf("a%d", i), to: []string{fmt.Sprintf("b%d", i)}, at: t0.Add(time.Duration(i) * time.Minute), created: old,
						text: fmt.Sprintf("Your DHL parcel %d is out for delivery today between 10:00 and 14:00, track it here: https://www.dhl.com/track?id=%d", 1000+i, i)}.event())
				}
				return out
			},
			func() []*event.Message {
				var out []*event.Message
				for i := range 40 {
					out = append(out, msgSpec{id: fmt.Sprintf("x%d", i), conv: fmt.Sprintf("c%d", i), from: "bot", to: []string{fmt.Sprintf("u%d", i)}, at: t0.Add(time.Duration(i) * time.Minute), created: t0.Add(-4 * 24 * time.Hour),
						text: fmt.Sprintf("DHL: your parcel %d is on hold, pay the redelivery fee here: dhl-parcel-fee.com/%d", 1000+i, i)}.event())
				}
				return out
			},
		},
		{
			"a long-standing shop answering customers with a link, and a young account pushing it on strangers",
			func() []*event.Message {
				var out []*event.Message
				for i := range 40 {
					conv := fmt.Sprintf("s%d", i)
					at := t0.Add(time.Duration(i) * time.Minute)
					out = append(out, msgSpec{id: conv + "-q", conv: conv, from: fmt.Sprintf("cust%d", i), to: []string{"shop"}, at: at, created: old, text: "hi, do you still have the blue mug?"}.event())
					out = append(out, msgSpec{id: conv, conv: conv, from: "shop", to: []string{fmt.Sprintf("cust%d", i)}, at: at.Add(time.Minute), created: old,
						text: "Thanks for your message! Yes, it is in stock, order it here: bit.ly/bluemug"}.event())
				}
				return out
			},
			func() []*event.Message {
				var out []*event.Message
				for i := range 40 {
					out = append(out, msgSpec{id: fmt.Sprintf("x%d", i), conv: fmt.Sprintf("c%d", i), from: "bot", to: []string{fmt.Sprintf("u%d", i)}, at: t0.Add(time.Duration(i) * time.Minute), created: young,
						text: "Yes, it is in stock, order it here: bit.ly/bluemug"}.event())
				}
				return out
			},
		},
	}
	rules := builtinRules(t)
	medium := func(flags []detectors.Flag) int {
		n := 0
		for _, f := range flags {
			if f.Severity.Rank() >= detectors.Medium.Rank() {
				n++
			}
		}
		return n
	}
	for _, c := range cases {
		if n := medium(inOrder(t, rules, detectorForwards(t, rules, c.benign()))); n > 0 {
			t.Errorf("%s: the benign pattern raised %d flags at medium or above", c.name, n)
		}
		if n := medium(inOrder(t, rules, detectorForwards(t, rules, c.twin()))); n == 0 {
			t.Errorf("%s: the abusive twin raised no flag at medium or above", c.name)
		}
	}
}
