package pipeline_test

import (
	"bytes"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/pipeline"
)

func TestScoreCandidate(t *testing.T) {
	factories := allDetectors(t)
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	rf := func(id, rule string, cat detectors.Category, evidence string, confirmed bool) pipeline.ReviewedFlag {
		return pipeline.ReviewedFlag{Confirmed: confirmed, Flag: detectors.Flag{FlagID: id, MessageID: "m-" + id, ConversationID: "c-" + id,
			SenderID: "u", Detector: "keyword", Rule: rule, Category: cat, Severity: detectors.High, Evidence: evidence, SentAt: at}}
	}
	reviewed := []pipeline.ReviewedFlag{
		rf("1", "spam.prize", detectors.Spam, "claim your prize now at bit.ly/x", true),
		rf("2", "spam.prize", detectors.Spam, "you have won a free trip, claim now", true),
		rf("3", "spam.prize", detectors.Spam, "congratulations you won the raffle at school!", false),
		rf("4", "harassment.threat", detectors.Harassment, "I will hurt you", true),
	}
	// The candidate switches spam.prize off and adds a narrower rule.
	candidate, err := detectors.LoadCheckedRules(factories, fstest.MapFS{"c.yaml": &fstest.MapFile{Data: []byte(`detector: keyword
rules:
  - id: spam.prize
    mode: off
  - id: spam.prize_link
    category: spam
    severity: high
    score: 0.8
    description: Prize bait with a link to claim it.
    owner: safety-spam
    phrases: [claim your prize, claim now]
    examples:
      - text: claim your prize at bit.ly/x
        expect: match
      - text: congratulations you won the raffle
        expect: no_match
`)}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := pipeline.ScoreCandidate(reviewed, factories, candidate)
	if err != nil {
		t.Fatal(err)
	}
	score := func(scores []pipeline.RuleScore, rule string) pipeline.RuleScore {
		for _, s := range scores {
			if s.Rule == rule {
				return s
			}
		}
		return pipeline.RuleScore{Confirmed: -1}
	}
	if s := score(rep.Current, "spam.prize"); s.Confirmed != 2 || s.Dismissed != 1 {
		t.Errorf("current spam.prize = %+v, want 2 confirmed, 1 dismissed", s)
	}
	if s := score(rep.Candidate, "spam.prize_link"); s.Confirmed != 2 || s.Dismissed != 0 || s.Precision() != 1 {
		t.Errorf("candidate spam.prize_link = %+v, want 2 confirmed, 0 dismissed", s)
	}
	if s := score(rep.Candidate, "spam.prize"); s.Confirmed != -1 {
		t.Errorf("the switched-off rule still scored: %+v", s)
	}
	if rep.Reviewed != 4 || rep.Confirmed != 3 || rep.CaughtConfirmed != 3 {
		t.Errorf("reviewed %d, confirmed %d, caught %d; want 4, 3, 3", rep.Reviewed, rep.Confirmed, rep.CaughtConfirmed)
	}
	var out bytes.Buffer
	if err := rep.Write(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"4 reviewed flags (3 confirmed, 1 dismissed)", "spam.prize_link", "0.67", "1.00"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
