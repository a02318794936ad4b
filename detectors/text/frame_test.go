package text

import (
	"slices"
	"testing"
)

func TestInflections(t *testing.T) {
	for _, tc := range []struct {
		verb string
		want []string
	}{
		{"tell", []string{"tell", "tells", "told", "telling"}},
		{"talk", []string{"talk", "talks", "talked", "talking"}},
		{"delete", []string{"delete", "deletes", "deleted", "deleting"}},
		{"mention", []string{"mention", "mentions", "mentioned", "mentioning"}},
		{"worry", []string{"worry", "worries", "worried", "worrying"}},
		{"stop", []string{"stop", "stops", "stopped", "stopping"}},
		{"notice", []string{"notice", "notices", "noticed", "noticing"}},
		{"wish", []string{"wish", "wishes", "wished", "wishing"}},
	} {
		got := Inflections(tc.verb)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("Inflections(%q) = %v, lacks %q", tc.verb, got, w)
			}
		}
	}
}

func TestFrames(t *testing.T) {
	specs := []string{
		"{negation} ~2 {tell} ~3 {guardian}",        // 0
		"{offer} ~2 {fetch} ~2 {you}",               // 1
		"{keep} ~2 between us|ourselves",            // 2
		"send+ ~2 {picture} ~3 {clothing}",          // 3
		"{nobody} ~2 has|needs|gets? ~1 to? {know}", // 4
		"^ {kin} $",         // 5
		"^ ok|thanks {kin}", // 6
		"love ~1 {you} $",   // 7
	}
	fs, err := CompileFrames(specs)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text string
		want []int
	}{
		{"don't tell your mum ok", []int{0}},
		{"Never EVER tell ur parents about this", []int{0}},
		{"you can't say anything to your dad", []int{0}},
		{"dont mention me to anyone", []int{0}},
		{"I'll come get you after school", []int{1}},
		{"i could pick u up", []int{1}},
		{"let me collect you at the station", []int{1}},
		{"keep this between us", []int{2}},
		{"let's keep it just between ourselves", []int{2}},
		{"sent me a pic in ur pyjamas", []int{3}},
		{"nobody needs to know", []int{4}},
		{"noone has to know", []int{4}},
		{"nooo one... ", nil},
		// Sentence ends break a frame; unrelated words do not match.
		{"don't. I will tell your mum", nil},
		{"tell your mum I said hi", nil},
		{"I told my mum everything", nil},
		{"I will be there", nil},
		{"dooon't tell your muuum", []int{0}},
		{"mum 😂", []int{5}},
		{"Mum!!", []int{5}},
		{"my mum", nil},
		{"ok mum", []int{6}},
		{"yes ok mum", nil},
		{"love u", []int{7}},
		{"love you loads", nil},
	} {
		var sc FrameScratch
		var got []int
		for _, m := range fs.Match(Normalize(tc.text), &sc, nil) {
			got = append(got, m.ID)
			if m.OrigStart < 0 || m.OrigEnd > len(tc.text) || m.OrigStart >= m.OrigEnd {
				t.Errorf("%q: match %d has range %d..%d", tc.text, m.ID, m.OrigStart, m.OrigEnd)
			}
		}
		slices.Sort(got)
		got = slices.Compact(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: frames %v, want %v", tc.text, got, tc.want)
		}
	}
}

// TestFrameNumbers: {number} and {amount} are read from the shape of a
// word and its neighbours, and a number written in a frame is still one.
func TestFrameNumbers(t *testing.T) {
	specs := []string{
		"send+ ~1 {amount} ~3 get|receive ~1 {amount}", // 0
		"{number} ~0 tickets",                          // 1
		"age ~0 16",                                    // 2
		"{amount} ~1 profit",                           // 3
		"ok ~0 now",                                    // 4
	}
	fs, err := CompileFrames(specs)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text string
		want []int
	}{
		{"s3nd $100 g3t $1,000 back", []int{0}},
		{"send £ 50 and receive 500$", []int{0}},
		{"send 100 get 1000", nil}, // numbers, not sums of money
		{"2 tickets", []int{1}},
		{"1,200 tickets", []int{1}},
		{"two tickets", nil},
		{"24h tickets", nil}, // a duration is not a number
		{"age 16", []int{2}},
		{"age $16 profit", []int{2, 3}}, // a literal number is also an amount
		{"withdrew $12,000 profit", []int{3}},
		{"500 usdt profit", []int{3}},
		{"4.2m dollars profit", []int{3}},
		{"0.05 BTC profit", []int{3}},
		{"12 profit", nil},
		{"the 10x profit", nil},
		// A decimal point is not a sentence end; a full stop after a digit is.
		{"it is 7.30 ok now", []int{4}},
		{"it is 7. ok now", []int{4}},
		{"send $100. get $1000", nil},
	} {
		var sc FrameScratch
		var got []int
		for _, m := range fs.Match(Normalize(tc.text), &sc, nil) {
			got = append(got, m.ID)
		}
		slices.Sort(got)
		got = slices.Compact(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: frames %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestCompileFramesErrors(t *testing.T) {
	for _, spec := range []string{
		"{nosuchclass} tell+",
		"tell",
		"~2 tell+ mum",
		"tell+ ~9 mum",
		"tell+ mum?",
		"{negation tell+",
		"tell+ a||b",
		"tell+ ^ mum",
		"^ mum",
	} {
		if _, err := CompileFrames([]string{spec}); err == nil {
			t.Errorf("CompileFrames(%q) = nil error", spec)
		}
	}
}

// FuzzFrames: matching never panics, and every match lies within the text
// on rune boundaries of the source.
func FuzzFrames(f *testing.F) {
	fs, err := CompileFrames([]string{"{negation} ~2 {tell} ~3 {guardian}", "{offer} ~2 {fetch} ~2 {you}", "x y? z", "sooo+ ~6 so"})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"don't tell your mum", "I'll come get you", "x z", "x y z.", "’’’", "dooon't\ntell", "\xff tell mum"} {
		f.Add(s)
	}
	var sc FrameScratch
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		for _, m := range fs.Match(n, &sc, nil) {
			if m.Start < 0 || m.End > len(n.Text) || m.Start >= m.End || m.OrigStart < 0 || m.OrigEnd > len(s) || m.OrigStart > m.OrigEnd {
				t.Fatalf("%q: match %+v out of range", s, m)
			}
		}
	})
}

// TestFrameMatchLeavesQuotesOut: apostrophes at a word's edge are
// quotation marks, so a frame quoted with them lies inside the quote.
func TestFrameMatchLeavesQuotesOut(t *testing.T) {
	fs, err := CompileFrames([]string{"{me} ~1 know ~1 where ~1 {you} ~3 live"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text, match string
		quoted      bool
	}{
		{"my ex texted 'i know where u live' and im scared", "i know where u live", true},
		{"he wrote ‘I know where you live’ lol", "I know where you live", true},
		{"i know where u live", "i know where u live", false},
	} {
		var z Normalizer
		var sc FrameScratch
		n := z.Normalize(tc.text)
		got := fs.Match(n, &sc, nil)
		if len(got) != 1 {
			t.Fatalf("%q: %d matches", tc.text, len(got))
		}
		m := got[0]
		if tc.text[m.OrigStart:m.OrigEnd] != tc.match || InQuotes(tc.text, m.OrigStart, m.OrigEnd) != tc.quoted {
			t.Errorf("%q: matched %q (quoted %v), want %q (quoted %v)", tc.text, tc.text[m.OrigStart:m.OrigEnd], InQuotes(tc.text, m.OrigStart, m.OrigEnd), tc.match, tc.quoted)
		}
	}
}
