package text

import (
	"strings"
	"testing"
)

func TestInQuotes(t *testing.T) {
	cases := []struct {
		text, sub string
		want      bool
	}{
		{`he said "kill yourself" to me`, "kill yourself", true},
		{`he said "kill yourself" to me`, "kill", true},
		{`he said “kill yourself” to me`, "kill", true},
		{`er sagte „kill yourself“`, "kill", true},
		{`il a dit «kill yourself»`, "kill", true},
		{`il a dit « kill yourself »`, "kill", true},
		{`彼は「kill」と言った`, "kill", true},
		{`she wrote 'kill yourself' in the chat`, "kill", true},
		{`she wrote ‘kill yourself’ in the chat`, "kill", true},
		{`they told me 'just die!' yesterday`, "die", true},
		{`kill yourself`, "kill", false},
		{`"hi" kill yourself "bye"`, "kill", false},
		{`he said "kill yourself`, "kill", false},
		{`don't kill yourself, it's not worth it`, "kill", false},
		{`'cause I said kill`, "kill", false},
		{`I can't stand you 'kill' me`, "kill", true},
		{`"kill" yourself`, "kill yourself", false},
		{`«nested "kill" quote»`, "kill", true},
	}
	for _, c := range cases {
		i := strings.Index(c.text, c.sub)
		if got := InQuotes(c.text, i, i+len(c.sub)); got != c.want {
			t.Errorf("InQuotes(%q, %q) = %v, want %v", c.text, c.sub, got, c.want)
		}
	}
	for _, r := range [][2]int{{-1, 2}, {3, 2}, {0, 100}} {
		if InQuotes(`"ab"`, r[0], r[1]) {
			t.Errorf("InQuotes out of range %v = true", r)
		}
	}
}

// TestInQuotesWithMatch shows the intended use: a match's original span.
func TestInQuotesWithMatch(t *testing.T) {
	m := testMatcher(t)
	msg := `my sister said “k.y.s” to me, can you believe it`
	got := m.Match(Normalize(msg), nil)
	if len(got) != 1 || !InQuotes(msg, got[0].OrigStart, got[0].OrigEnd) {
		t.Fatalf("matches %+v: want one quoted", got)
	}
}
