package spam

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
)

func printForward(id, conv, sender string, at time.Duration, h uint64, band int) detectors.Forward {
	return detectors.Forward{Stream: StreamFingerprint, Key: bandKey(h, band),
		Value: appendPrint(nil, &printRec[string]{msgID: id, convID: conv, senderID: sender, sentAt: t0.Add(at).UnixNano(), simhash: h})}
}

// signals feeds forwards to a fingerprint stage and returns the content
// signals it forwarded, decoded, by message id (the highest levels seen).
func signals(t *testing.T, s *FingerprintStage, fw ...detectors.Forward) (map[string][2]uint32, int) {
	t.Helper()
	out := map[string][2]uint32{}
	n := 0
	for _, f := range fw {
		if flags := handle(t, s, f); len(flags) > 0 {
			t.Fatalf("the fingerprint stage raised flags: %v", flags)
		}
		for _, g := range s.TakeForwards(nil) {
			n++
			if g.Stream != StreamSender {
				t.Fatalf("forward to %s", g.Stream)
			}
			kind, body, err := recordKind(g.Value)
			var r contentRec[[]byte]
			if err != nil || kind != recContent || decodeContent(body, &r) != nil || string(r.senderID) != g.Key {
				t.Fatalf("bad signal %q: %v", g.Value, err)
			}
			old := out[string(r.msgID)]
			out[string(r.msgID)] = [2]uint32{max(old[0], r.convs), max(old[1], r.senders)}
		}
	}
	return out, n
}

func TestContentFanout(t *testing.T) {
	s, err := newFingerprintStage(builtinRules(t))
	if err != nil {
		t.Fatal(err)
	}
	const h = 0x0123456789abcdef
	var fw []detectors.Forward
	// 12 near-duplicates (0 to 3 bits apart) in 12 conversations from 6
	// senders within 22 minutes, all in band 0's bucket.
	for i := range 12 {
		hi := uint64(h) ^ []uint64{0, 1 << 20, 1<<20 | 1<<33, 1<<20 | 1<<33 | 1<<61}[i%4] // outside band 0
		fw = append(fw, printForward(fmt.Sprintf("m%d", i), fmt.Sprintf("c%d", i), fmt.Sprintf("s%d", i%6), time.Duration(i)*2*time.Minute, hi, 0))
	}
	// Not counted: 4 bits away, and 40 minutes after the last.
	fw = append(fw, printForward("far", "cf", "sf", 10*time.Minute, h^(1<<20|1<<30|1<<40|1<<50), 0))
	fw = append(fw, printForward("late", "cl", "sl", 62*time.Minute, h, 0))
	got, n := signals(t, s, fw...)
	for i := range 12 {
		id := fmt.Sprintf("m%d", i)
		if got[id] != [2]uint32{10, 5} {
			t.Errorf("%s: levels %v, want conversations 10, senders 5", id, got[id])
		}
	}
	if _, ok := got["far"]; ok {
		t.Error("a fingerprint 4 bits away was counted")
	}
	if _, ok := got["late"]; ok {
		t.Error("a fingerprint outside the window reached a level")
	}
	// Each message's levels were signalled at most twice (senders 5 first,
	// then conversations 10, or both at once).
	if n > 24 || n < 12 {
		t.Errorf("%d signals for 12 messages", n)
	}
	// Everything again: no new signal.
	if again, n := signals(t, s, fw...); n > 0 {
		t.Errorf("re-delivery signalled %v", again)
	}
	if s.StateEntries() != 14 {
		t.Errorf("%d entries held, want 14", s.StateEntries())
	}
}

func TestFingerprintBucketIsBounded(t *testing.T) {
	rules := builtinRules(t)
	s, err := newFingerprintStage(rules)
	if err != nil {
		t.Fatal(err)
	}
	max := s.cfg.behaviour.maxPrints
	for i := range 3 * max {
		handle(t, s, printForward(fmt.Sprintf("m%d", i), fmt.Sprintf("c%d", i), "s", time.Duration(i)*time.Second, uint64(i)<<16, 0))
	}
	if s.StateEntries() != max {
		t.Fatalf("%d entries in one bucket, cap %d", s.StateEntries(), max)
	}
	// Time moves on: the bucket empties (and goes once idle).
	horizon := time.Duration(s.cfg.behaviour.printHorizon())
	handle(t, s, printForward("new", "c", "s", horizon+time.Hour, 0, 0))
	if s.StateEntries() != 1 {
		t.Fatalf("%d entries after the horizon moved", s.StateEntries())
	}
}

func TestFingerprintHandleRejectsBadRecords(t *testing.T) {
	s, err := newFingerprintStage(builtinRules(t))
	if err != nil {
		t.Fatal(err)
	}
	good := printForward("m", "c", "s", 0, 0xabcd, 0)
	for name, c := range map[string]struct {
		key   string
		value []byte
	}{
		"other bucket": {"b0:abce", good.Value},
		"other band":   {"b1:abcd", good.Value},
		"bad key":      {"b0abcd", good.Value},
		"kind":         {good.Key, rec{id: "m", conv: "c", sender: "s", age: -1}.value()},
		"truncated":    {good.Key, good.Value[:len(good.Value)-1]},
		"empty":        {good.Key, nil},
	} {
		if _, err := s.Handle(c.key, c.value, nil); !errors.Is(err, ErrBadRecord) {
			t.Errorf("%s: error %v, want ErrBadRecord", name, err)
		}
	}
	if _, err := s.Handle(good.Key, good.Value, nil); err != nil {
		t.Fatal(err)
	}
}

func TestFingerprintReloadResignalsNewLevels(t *testing.T) {
	rules := builtinRules(t)
	s, err := newFingerprintStage(rules)
	if err != nil {
		t.Fatal(err)
	}
	var fw []detectors.Forward
	for i := range 10 {
		fw = append(fw, printForward(fmt.Sprintf("m%d", i), fmt.Sprintf("c%d", i), "s", time.Duration(i)*time.Minute, 7, 0))
	}
	if got, _ := signals(t, s, fw...); got["m0"][0] != 10 {
		t.Fatalf("m0: %v", got["m0"])
	}
	lower := rulesFrom(t, `
detector: spam
rules:
  - id: spam.behaviour
    kind: behaviour
    category: spam
    severity: low
    description: t
    owner: t
    content_fanout: {window: 30m, conversations: [{at: 3, weight: 1}, {at: 11, weight: 2}]}
    examples: [{text: x, expect: match}]
`)
	if err := s.Reload(lower); err != nil {
		t.Fatal(err)
	}
	got, _ := signals(t, s, printForward("m10", "c10", "s", 10*time.Minute, 7, 0))
	if got["m10"][0] != 11 || got["m0"][0] != 11 {
		t.Fatalf("after reload: %v", got)
	}
}

// TestTotalCaps: max_entries bounds what each stage holds over all its
// keys, dropping the least recently used senders or buckets.
func TestTotalCaps(t *testing.T) {
	rules := rulesFrom(t, `
detector: spam
rules:
  - id: spam.behaviour
    kind: behaviour
    category: spam
    severity: low
    description: t
    owner: t
    max_entries: 1000
    content_fanout: {window: 30m, max_entries: 1000, conversations: [{at: 3, weight: 1}]}
    examples: [{text: x, expect: match}]
`)
	s, err := newSenderStage(rules)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := newFingerprintStage(rules)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		handle(t, s, rec{id: fmt.Sprintf("m%d", i), conv: "c", sender: fmt.Sprintf("s%d", i%1500), at: time.Duration(i) * time.Second, age: -1}.forward())
		handle(t, fp, printForward(fmt.Sprintf("m%d", i), "c", "s", time.Duration(i)*time.Second, uint64(i)*0x9e3779b97f4a7c15, i%4))
		if s.StateEntries() > 1000 || fp.StateEntries() > 1000 {
			t.Fatalf("after %d records: %d messages, %d fingerprints held; cap 1000", i+1, s.StateEntries(), fp.StateEntries())
		}
	}
	if s.StateEntries() < 900 || fp.StateEntries() < 900 {
		t.Fatalf("%d messages, %d fingerprints held: the caps dropped far more than needed", s.StateEntries(), fp.StateEntries())
	}
}

// TestIDsWithAnyByteComeBackWhole: the stages keep ids packed with their
// lengths, so an id holding NUL (JSON allows "\u0000") or a long id comes
// back whole in signals and flags.
func TestIDsWithAnyByteComeBackWhole(t *testing.T) {
	for _, tc := range []struct{ name, msg, conv, sender, to string }{
		{"plain", "m", "c", "s", "r"},
		{"NUL first", "\x00m", "\x00c", "\x00s", "\x00r"},
		{"NUL inside and last", "m\x00\x00", "c\x00x", "s\x00", "r\x00"},
		{"long", strings.Repeat("m", 126), strings.Repeat("c", 126), strings.Repeat("s", 127), strings.Repeat("r", 128)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fp, err := newFingerprintStage(builtinRules(t))
			if err != nil {
				t.Fatal(err)
			}
			var fw []detectors.Forward
			for i := range 12 {
				fw = append(fw, printForward(fmt.Sprint(tc.msg, i), fmt.Sprint(tc.conv, i), fmt.Sprint(tc.sender, i%6), time.Duration(i)*time.Minute, 0x0123456789abcdef, 0))
			}
			got, _ := signals(t, fp, fw...)
			for i := range 12 {
				if _, ok := got[fmt.Sprint(tc.msg, i)]; !ok {
					t.Errorf("no signal for message %q (signals %v)", fmt.Sprint(tc.msg, i), got)
				}
			}
			s, _ := traced(t, builtinRules(t))
			m := rec{id: tc.msg, conv: tc.conv, sender: tc.sender, age: -1, links: 1, flags: flagShortener | flagFirst | flagCold,
				hits: []string{"spam.scam.prize"}, to: []string{tc.to, "r2"}}
			flags := handle(t, s, m.forward())
			if len(flags) != 1 {
				t.Fatalf("flags %v, want one", flagKeys(flags))
			}
			f := flags[0]
			if f.MessageID != tc.msg || f.ConversationID != tc.conv || f.SenderID != tc.sender || !slices.Equal(f.RecipientIDs, []string{tc.to, "r2"}) ||
				f.FlagID != detectors.FlagID(tc.msg, Name, f.Rule) {
				t.Errorf("flag ids %q %q %q %q, want %q %q %q [%q r2]", f.MessageID, f.ConversationID, f.SenderID, f.RecipientIDs, tc.msg, tc.conv, tc.sender, tc.to)
			}
		})
	}
}
