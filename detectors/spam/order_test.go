package spam

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/event"
)

// campaignEvents is a mixed hour of traffic: a new account sending a prize
// scam with links to 40 strangers, a cluster of 8 young accounts sending a
// crypto pitch to 4 strangers each, a burst bot, a shop owner answering
// customers with the same text, and friends chatting.
func campaignEvents(rng *rand.Rand) []*event.Message {
	var out []*event.Message
	n := 0
	add := func(conv, from, to string, at time.Duration, created time.Duration, text string) {
		n++
		m := msgSpec{id: fmt.Sprintf("e%04d", n), conv: conv, from: from, to: []string{to}, at: t0.Add(at), text: text}
		if created > 0 {
			m.created = t0.Add(at - created)
		}
		out = append(out, m.event())
	}
	names := []string{"Sarah", "Mike", "Anna", "Tom", "Lucy", "Omar", "Priya", "Jack"}
	for i := range 40 {
		add(fmt.Sprintf("prize-%d", i), "prizebot", fmt.Sprintf("victim%d", i), time.Duration(i)*45*time.Second, 3*time.Hour,
			fmt.Sprintf("Congratulations %s! You have won a $%d gift card, claim your prize at bit.ly/%x before it expires", names[i%8], 100*(1+i%5), rng.Uint32()))
		if i%3 == 0 {
			add(fmt.Sprintf("prize-%d", i), fmt.Sprintf("victim%d", i), "prizebot", time.Duration(i)*45*time.Second+2*time.Minute, 0, "who is this?")
		}
		if i%4 == 0 {
			add(fmt.Sprintf("prize-%d", i), "prizebot", fmt.Sprintf("victim%d", i), time.Duration(i)*45*time.Second+5*time.Minute, 3*time.Hour, "Did you claim it? Only 2 hours left!")
		}
	}
	for a := range 8 {
		for j := range 4 {
			at := time.Duration(rng.IntN(3600)) * time.Second
			add(fmt.Sprintf("crypto-%d-%d", a, j), fmt.Sprintf("crypto%d", a), fmt.Sprintf("mark%d-%d", a, j), at, 20*time.Hour,
				fmt.Sprintf("Hi dear, I am %s, an investment manager. Send %d USDT and get 10x back, guaranteed returns, add me on telegram @%s_%d", names[a], 500*(1+j), names[a], a))
			add(fmt.Sprintf("crypto-%d-%d", a, j), fmt.Sprintf("crypto%d", a), fmt.Sprintf("mark%d-%d", a, j), at+time.Duration(rng.IntN(600))*time.Second, 20*time.Hour,
				"are you there? the offer closes today")
		}
	}
	for i := range 12 {
		add(fmt.Sprintf("burst-%d", i), "burstbot", fmt.Sprintf("target%d", i), 20*time.Minute+time.Duration(i)*2*time.Second, 30*24*time.Hour,
			"hey 😘 check my profile tinyurl.com/hotpics")
	}
	for i := range 25 {
		conv := fmt.Sprintf("shop-%d", i)
		at := time.Duration(rng.IntN(3300)) * time.Second
		add(conv, fmt.Sprintf("customer%d", i), "shop", at, 400*24*time.Hour, "hi, do you still have the blue mug in stock?")
		add(conv, "shop", fmt.Sprintf("customer%d", i), at+time.Minute, 700*24*time.Hour,
			"Thanks for your message! Yes, it is in stock, you can order it here: https://www.tidy-mugs.example.com/blue-mug")
	}
	for i := range 30 {
		a, b := fmt.Sprintf("friend%d", i), fmt.Sprintf("friend%d", (i+1)%30)
		conv := fmt.Sprintf("chat-%d", i)
		at := time.Duration(rng.IntN(3000)) * time.Second
		add(conv, a, b, at, 900*24*time.Hour, "are you coming to the match on saturday?")
		add(conv, b, a, at+time.Minute, 800*24*time.Hour, "yes! lol look at this https://imgur.com/gallery/abc")
		add(conv, a, b, at+2*time.Minute, 900*24*time.Hour, "ok")
	}
	return out
}

// TestFlagsDoNotDependOnArrivalOrder is the property the stages are built
// for: the same records, delivered in many random orders (within the
// allowed lateness per hop) and with random duplicates, raise the same
// (message, rule, severity) flags, and those are the flags the definitions
// give for the whole set of records (reference).
func TestFlagsDoNotDependOnArrivalOrder(t *testing.T) {
	rules := builtinRules(t)
	late := func() time.Duration {
		s, _ := newSenderStage(rules)
		return s.cfg.behaviour.lateness
	}()
	events := campaignEvents(rand.New(rand.NewPCG(1, 1)))
	fw := detectorForwards(t, rules, events)
	want, entries := referenceEntries(t, rules, fw)
	// The campaigns are flagged, and nothing else.
	sender := map[string]string{}
	for _, m := range events {
		sender[m.MessageID] = m.Sender.ID
	}
	flagged := map[string]bool{}
	for _, k := range want {
		s := sender[strings.Fields(k)[0]]
		flagged[strings.TrimRight(s, "0123456789")] = true
	}
	if !flagged["prizebot"] || !flagged["crypto"] || !flagged["burstbot"] || len(flagged) != 3 {
		t.Fatalf("flagged senders %v, want prizebot, crypto*, burstbot", flagged)
	}
	if got := flagKeys(inOrder(t, rules, fw)); !slices.Equal(got, want) {
		t.Fatalf("in order (Route) differs from the definitions:\n%s", diff(want, got))
	}
	rounds := 40
	if testing.Short() {
		rounds = 8
	}
	for seed := range rounds {
		rng := rand.New(rand.NewPCG(uint64(seed), 42))
		flags, stages := shuffledStages(t, rules, fw, rng, late, 0.25)
		if got := flagKeys(flags); !slices.Equal(got, want) {
			t.Fatalf("order %d differs:\n%s", seed, diff(want, got))
		}
		// Beyond the flags, every count of every message is the count the
		// definitions give.
		held := heldEntries(stages[StreamSender].(*SenderStage))
		if len(held) != len(entries) {
			t.Fatalf("order %d: %d messages held, %d sent", seed, len(held), len(entries))
		}
		for id, e := range entries {
			if got, want := countsOf(held[id]), countsOf(e); got != want {
				t.Fatalf("order %d: message %s counts %+v, want %+v", seed, id, got, want)
			}
		}
	}
	t.Logf("%d forwards, %d (message, rule, severity) flags, the same in order and in %d shuffled orders with duplicates", len(fw), len(want), rounds)
}
