package text

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// loadMessages reads testdata/messages.txt: one short chat message a line,
// with Go escapes (\u200b) for characters that are hard to see.
func loadMessages(t testing.TB) []string {
	t.Helper()
	f, err := os.Open("testdata/messages.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var msgs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, `\`) {
			if line, err = strconv.Unquote(`"` + line + `"`); err != nil {
				t.Fatalf("%q: %v", sc.Text(), err)
			}
		}
		msgs = append(msgs, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return msgs
}

// baseLexicon is a realistic lexicon of 100 phrases.
var baseLexicon = []string{
	"kys", "kill yourself", "kill urself", "go die", "die in a fire", "i hope you die",
	"you should disappear", "nobody will miss you", "nobody likes you", "everyone hates you",
	"you are worthless", "worthless", "loser", "idiot", "stupid", "moron", "dumb",
	"dumbass", "retard", "freak", "ugly", "fat pig", "pig", "trash", "garbage",
	"pathetic", "disgrace", "bitch", "slut", "whore", "ass", "asshole", "fuck",
	"fuck off", "fuck you", "shut up", "stfu", "piece of shit", "shit", "bastard",
	"go back to where you came from", "loser lol", "you're a loser", "you are a loser",
	"i will find you", "i know where you live", "watch your back", "you'll regret this",
	"how old are you", "are you home alone", "don't tell your parents", "don't tell anyone",
	"our little secret", "keep this between us", "delete these messages", "send me a pic",
	"send pics", "what are you wearing", "do you have snapchat", "mature for your age",
	"you can trust me", "nobody understands you like i do", "just the two of us",
	"i can pick you up", "meet up", "i bought you a present", "your parents wouldn't understand",
	"you're so special to me", "free gift card", "you won", "claim your prize",
	"limited offer", "click here", "click the link", "verify your account", "account suspended",
	"earn money from home", "work from home", "hot singles", "crypto investment",
	"double your money", "send btc", "buy followers", "free v-bucks", "no survey",
	"reply stop", "unsubscribe", "limited time", "90% off", "bit.ly", "paypal",
	"wire transfer", "gift cards", "investment tips", "dm me", "whatsapp me",
	"telegram me", "cash app", "sugar daddy",
}

// syntheticLexicon returns n phrases: baseLexicon, then deterministic
// combinations of realistic words.
func syntheticLexicon(n int) []string {
	adj := []string{"stupid", "ugly", "fat", "worthless", "pathetic", "dirty", "lazy", "fake",
		"useless", "disgusting", "annoying", "weird", "creepy", "toxic", "brainless", "clueless",
		"spineless", "greedy", "sneaky", "nasty", "filthy", "rotten", "hopeless", "miserable",
		"sad", "lame", "dumb", "crazy", "psycho", "sick", "twisted", "cheap", "broke", "smelly",
		"clumsy", "ignorant", "arrogant", "shameless", "heartless", "gutless"}
	noun := []string{"clown", "rat", "snake", "worm", "pig", "cow", "dog", "donkey", "goblin",
		"troll", "loser", "nobody", "failure", "joke", "mess", "creep", "weirdo", "freak",
		"liar", "cheater", "coward", "parasite", "leech", "fraud", "scammer", "bot", "noob",
		"wannabe", "poser", "slob", "pest", "zombie", "muppet", "twit", "dork", "nerd", "geek",
		"bum", "fool", "ape", "hog", "weasel", "vulture", "hyena", "toad", "slug", "roach",
		"maggot", "tick", "flea"}
	tmpl := []string{"%s %s", "you %s %s", "such a %s %s", "shut up %s %s", "%s little %s"}
	out := make([]string, 0, n)
	out = append(out, baseLexicon[:min(n, len(baseLexicon))]...)
	for _, t := range tmpl {
		for _, a := range adj {
			for _, w := range noun {
				if len(out) == n {
					return out
				}
				out = append(out, fmt.Sprintf(t, a, w))
			}
		}
	}
	return out
}

var benchSizes = []int{100, 10000}

func BenchmarkNormalizeAndMatch(b *testing.B) {
	msgs := loadMessages(b)
	for _, size := range benchSizes {
		m, err := NewMatcher(syntheticLexicon(size))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("lexicon=%d", size), func(b *testing.B) {
			var z Normalizer
			out := make([]Match, 0, 64)
			matches := 0
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				out = m.Match(z.Normalize(msgs[i%len(msgs)]), out[:0])
				matches += len(out)
			}
			b.ReportMetric(float64(matches)/float64(b.N), "matches/op")
		})
	}
}

func BenchmarkNormalize(b *testing.B) {
	msgs := loadMessages(b)
	var z Normalizer
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		z.Normalize(msgs[i%len(msgs)])
	}
}

func BenchmarkNewMatcher(b *testing.B) {
	lex := syntheticLexicon(10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewMatcher(lex); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineContains is the simplest alternative: lower-case the
// message and look for every term with strings.Contains (no word
// boundaries, no evasions).
func BenchmarkBaselineContains(b *testing.B) {
	msgs := loadMessages(b)
	for _, size := range benchSizes {
		lex := syntheticLexicon(size)
		for i := range lex {
			lex[i] = strings.ToLower(lex[i])
		}
		b.Run(fmt.Sprintf("lexicon=%d", size), func(b *testing.B) {
			matches := 0
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				lower := strings.ToLower(msgs[i%len(msgs)])
				for _, term := range lex {
					if strings.Contains(lower, term) {
						matches++
					}
				}
			}
			b.ReportMetric(float64(matches)/float64(b.N), "matches/op")
		})
	}
}

// BenchmarkBaselineRegexp is the other simple alternative: one
// case-insensitive alternation of every term between \b word boundaries.
func BenchmarkBaselineRegexp(b *testing.B) {
	msgs := loadMessages(b)
	for _, size := range benchSizes {
		lex := syntheticLexicon(size)
		for i := range lex {
			lex[i] = regexp.QuoteMeta(lex[i])
		}
		re := regexp.MustCompile(`(?i)\b(?:` + strings.Join(lex, "|") + `)\b`)
		b.Run(fmt.Sprintf("lexicon=%d", size), func(b *testing.B) {
			matches := 0
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				matches += len(re.FindAllStringIndex(msgs[i%len(msgs)], -1))
			}
			b.ReportMetric(float64(matches)/float64(b.N), "matches/op")
		})
	}
}
