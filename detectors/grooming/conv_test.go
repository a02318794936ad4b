package grooming

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// randomConv builds a state the way Inspect does, with the bounds pushed.
func randomConv(r *rand.Rand) conv {
	var c conv
	base := time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC).UnixNano()
	t := base
	people := 1 + r.IntN(maxPeople+3)
	for range 1 + r.IntN(60) {
		t += int64(r.IntN(3600)) * int64(time.Second)
		who := c.personFor("user-" + strconv.Itoa(r.IntN(people)))
		if who < 0 {
			continue
		}
		switch r.IntN(6) {
		case 0:
			c.people[who].age = uint8(5 + r.IntN(60))
		case 1:
			c.people[who].cues |= cueBit(context(2+r.IntN(2)), r.IntN(2) == 0)
		case 2:
			c.ctx |= cueBit(context(r.IntN(2)), r.IntN(2) == 0)
		case 3:
			c.askAt, c.askBy = t, uint8(who+1)
		case 4:
			c.fire(r.Uint32())
		default:
			id := strings.Repeat("m", r.IntN(70)) + strconv.Itoa(r.IntN(1000))
			sg := signal{at: t, idHash: r.Uint64(), stage: stage(r.IntN(int(nStages))), who: uint8(who), q: uint8(1 + r.IntN(255))}
			if r.IntN(4) == 0 {
				sg.flags = sigShadow
			}
			sg.flags |= uint8(r.IntN(4)) << 1 & sigOverrides
			c.addSignal(sg, id, excerptOf(strings.Repeat("é word ", r.IntN(20)), 0, r.IntN(40)))
		}
		c.last = t
	}
	return c
}

func checkBounds(t *testing.T, c *conv) {
	t.Helper()
	if int(c.nPeople) > maxPeople || len(c.signals) > maxSignals || len(c.fired) > maxFired {
		t.Fatalf("%d people, %d signals, %d fired", c.nPeople, len(c.signals), len(c.fired))
	}
	pairs := map[[2]uint8]int{}
	for _, s := range c.signals {
		pairs[[2]uint8{uint8(s.stage), s.who}]++
		if pairs[[2]uint8{uint8(s.stage), s.who}] > maxPerPair {
			t.Fatalf("more than %d signals of stage %s by person %d", maxPerPair, s.stage, s.who)
		}
		if int(s.idLen) > maxIDText || int(s.exLen) > maxExcerpt || !utf8.ValidString(c.excerpt(&s)) {
			t.Fatalf("signal texts: id %d bytes, excerpt %q", s.idLen, c.excerpt(&s))
		}
	}
	if live := c.liveBytes(); len(c.arena) > 2*live+256+maxIDText+maxExcerpt {
		t.Fatalf("arena of %d bytes for %d live", len(c.arena), live)
	}
}

// Every state round-trips through its encoding: decoding gives a state
// whose encoding is the same bytes, within the bounds.
func TestCodecRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := 0
	for i := range 2000 {
		c := randomConv(r)
		checkBounds(t, &c)
		enc := c.encode(nil)
		sizes += len(enc)
		d, err := decodeConv(enc)
		if err != nil {
			t.Fatalf("state %d: %v", i, err)
		}
		checkBounds(t, &d)
		if again := d.encode(nil); !bytes.Equal(again, enc) {
			t.Fatalf("state %d: encoding changed after a round trip", i)
		}
	}
	t.Logf("2000 random states (up to the bounds): %d bytes each on average", sizes/2000)
}

// Any single flipped or dropped byte either fails to decode or decodes to a
// state within the bounds.
func TestCodecRejectsDamage(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		c := randomConv(r)
		enc := c.encode(nil)
		for i := range enc {
			for _, damaged := range [][]byte{
				append(append([]byte{}, enc[:i]...), enc[i+1:]...),
				func() []byte { b := bytes.Clone(enc); b[i] ^= byte(1 + r.IntN(255)); return b }(),
			} {
				d, err := decodeConv(damaged)
				if err == nil {
					checkBounds(t, &d)
				}
			}
		}
	}
}

func TestAddSignalKeepsFirstAndLatest(t *testing.T) {
	var c conv
	who := c.personFor("a")
	for i := range 10 {
		c.addSignal(signal{at: int64(i * 10), idHash: uint64(i), stage: stSecrecy, who: uint8(who), q: 255}, "m"+strconv.Itoa(i), "x")
	}
	if len(c.signals) != 2 || c.signals[0].at != 0 || c.signals[1].at != 90 {
		t.Fatalf("signals %+v, want the first (0) and the latest (90)", c.signals)
	}
	// An earlier one replaces the first; one in between changes nothing.
	if !c.addSignal(signal{at: -5, idHash: 100, stage: stSecrecy, who: uint8(who), q: 255}, "early", "x") || c.signals[0].at != -5 {
		t.Fatalf("earlier signal not kept: %+v", c.signals)
	}
	if c.addSignal(signal{at: 50, idHash: 101, stage: stSecrecy, who: uint8(who), q: 255}, "mid", "x") {
		t.Fatal("a signal between the first and the latest changed the state")
	}
	// Past maxSignals the oldest goes.
	for st := range nStages {
		c.addSignal(signal{at: 1000 + int64(st), idHash: uint64(st) + 200, stage: st, who: uint8(who), q: 255}, "n", "y")
		c.addSignal(signal{at: 2000 + int64(st), idHash: uint64(st) + 300, stage: st, who: uint8(who), q: 255}, "n", "y")
	}
	if len(c.signals) != maxSignals {
		t.Fatalf("%d signals, want %d", len(c.signals), maxSignals)
	}
	for _, s := range c.signals {
		if s.at < 1000 {
			t.Fatalf("signal at %d survived %d newer ones", s.at, maxSignals)
		}
	}
}

func TestExcerptOf(t *testing.T) {
	long := strings.Repeat("long words here ", 20)
	for _, tc := range []struct {
		s          string
		start, end int
		want       string
	}{
		{"hey are you home alone right now?", 4, 22, "hey are you home alone right now?"},
		{"so anyway, tell me, are you home alone right now? because I was thinking", 20, 38, "tell me, are you home alone right now?"},
		{"are you home alone", 0, 18, "are you home alone"},
		{long + "don't tell your mom " + long, len(long), len(long) + 19, "words here don't tell your mom long words"},
		{strings.Repeat("é", 41), 2, 80, strings.Repeat("é", 30)},
		{"bad \xff\xfe are you alone \xff", 4, 20, "bad \ufffd are you alone \ufffd"},
		{"x", 5, 2, ""},
	} {
		got := excerptOf(tc.s, tc.start, tc.end)
		if got != tc.want || len(got) > maxExcerpt || !utf8.ValidString(got) {
			t.Errorf("excerptOf(%q, %d, %d) = %q, want %q", tc.s, tc.start, tc.end, got, tc.want)
		}
	}
}

// FuzzDecode: decoding never panics, and a decoded state is within the
// bounds and round-trips through its encoding.
func FuzzDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 50 {
		c := randomConv(r)
		f.Add(c.encode(nil))
	}
	f.Add([]byte{1, 0x80, 0x80, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeConv(data)
		if err != nil {
			return
		}
		checkBounds(t, &c)
		enc := c.encode(nil)
		d, err := decodeConv(enc)
		if err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		if again := d.encode(nil); !bytes.Equal(again, enc) {
			t.Fatal("encoding is not stable")
		}
	})
}

// The binary encoding against the same state as JSON (the other choice the
// changelog had): logged, and the binary must be the smaller.
func TestEncodingSize(t *testing.T) {
	type jsonSignal struct {
		Stage, Who, Strength, Flags int
		At                          int64
		Hash                        uint64
		ID, Excerpt                 string
	}
	type jsonPerson struct {
		ID        string
		Age, Cues int
	}
	type jsonState struct {
		Version         int
		Last, AskAt     int64
		AskBy, Contexts int
		People          []jsonPerson
		Fired           []uint32
		Signals         []jsonSignal
	}
	r := rand.New(rand.NewPCG(7, 8))
	var bin, js int
	for range 500 {
		c := randomConv(r)
		bin += len(c.encode(nil))
		st := jsonState{Version: 1, Last: c.last, AskAt: c.askAt, AskBy: int(c.askBy), Contexts: int(c.ctx), Fired: c.fired}
		for i := range int(c.nPeople) {
			st.People = append(st.People, jsonPerson{ID: c.personID(i), Age: int(c.people[i].age), Cues: int(c.people[i].cues)})
		}
		for _, s := range c.signals {
			st.Signals = append(st.Signals, jsonSignal{Stage: int(s.stage), Who: int(s.who), Strength: int(s.q), Flags: int(s.flags),
				At: s.at, Hash: s.idHash, ID: c.signalID(&s), Excerpt: c.excerpt(&s)})
		}
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		js += len(b)
	}
	t.Logf("500 random states: binary %d bytes each, JSON %d", bin/500, js/500)
	if bin >= js {
		t.Errorf("binary %d bytes, JSON %d: the binary encoding is not the smaller", bin, js)
	}
}
