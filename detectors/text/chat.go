package text

import (
	"slices"
	"strings"
)

// chatSpellings are the chat spellings of a few words, which a phrase of a
// lexicon also matches in: a rule lists "are you home alone" and matches
// "r u home alone" too. Read-only.
var chatSpellings = map[string][]string{
	"you": {"u"}, "your": {"ur"}, "you're": {"ur", "u r"}, "youre": {"ur", "u r"}, "yourself": {"urself"},
	"are": {"r"}, "you've": {"uve", "u have"}, "you'll": {"ull", "u'll", "ul"}, "you'd": {"ud", "u'd"},
	"please": {"pls", "plz"},
}

// MaxChatVariants bounds the spellings one phrase expands to.
const MaxChatVariants = 16

// ChatVariants returns the other chat spellings of a normalised phrase
// (words separated by single spaces), at most MaxChatVariants of them, or
// nil when it has none.
func ChatVariants(norm string) []string {
	words := strings.Split(norm, " ")
	if !slices.ContainsFunc(words, func(w string) bool { return chatSpellings[w] != nil }) {
		return nil
	}
	out := []string{""}
	for i, w := range words {
		alts := append([]string{w}, chatSpellings[w]...)
		var next []string
		for _, o := range out {
			for _, a := range alts {
				if len(next) < MaxChatVariants+1 {
					if i > 0 {
						next = append(next, o+" "+a)
					} else {
						next = append(next, a)
					}
				}
			}
		}
		out = next
	}
	return out[1:] // out[0] is the phrase itself
}
