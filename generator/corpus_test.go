package generator

import (
	"strings"
	"testing"
)

// TestCorpusSlots fills every template of every table and checks that no
// slot is left unknown, so a typo in a slot name cannot ship.
func TestCorpusSlots(t *testing.T) {
	tables := map[string][]string{
		"plansLines": plansLines, "schoolLines": schoolLines, "gameLines": gameLines, "workLines": workLines,
		"jokeLines": jokeLines, "parentLines": parentLines, "childLines": childLines,
		"friendAdultLines": friendAdultLines, "foreignLines": foreignLines, "trickyLines": trickyLines,
		"harassOpeners": harassOpeners, "harassLines": harassLines, "victimLines": victimLines,
		"spamLines": spamLines, "spamReplies": spamReplies, "groomRapport": groomRapport,
		"groomFlattery": groomFlattery, "groomProbe": groomProbe, "groomSecrecy": groomSecrecy,
		"groomPlatform": groomPlatform, "groomGifts": groomGifts, "groomPhoto": groomPhoto,
		"groomMeet": groomMeet, "minorReplies": minorReplies, "reactions": reactions,
	}
	g := New(1, Options{})
	for name, table := range tables {
		if len(table) == 0 {
			t.Errorf("%s is empty", name)
		}
		for i, tpl := range table {
			for range 5 {
				if s := g.fill(tpl); strings.ContainsAny(s, "{}") || s == "" {
					t.Errorf("%s[%d] %q filled to %q", name, i, tpl, s)
				}
			}
		}
	}
}
