package keyword

import (
	"strings"
	"testing"
)

// validRule is one rule that loads; tests damage copies of it.
const validRule = `
  - id: harassment.degrading
    category: harassment
    severity: medium
    score: 0.6
    description: degrading
    phrases: [nobody likes you]
    examples:
      match: [lol nobody likes you]
      no_match: [nobody likes mondays]
`

func TestParseValid(t *testing.T) {
	rs, err := Parse("ok.yaml", []byte("version: 1\nrules:"+validRule))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Rules()) != 1 {
		t.Fatalf("%d rules", len(rs.Rules()))
	}
	if _, ok := rs.Escalation(); ok {
		t.Fatal("escalation without an escalation section")
	}
}

func TestParseErrors(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(validRule, old) {
			t.Fatalf("test bug: %q not in the valid rule", old)
		}
		return "version: 1\nrules:" + strings.Replace(validRule, old, new, 1)
	}
	escalation := func(field string) string {
		e := map[string]string{
			"id": "harassment.escalation", "category": "harassment", "severity": "high", "score": "0.9",
			"description": "x", "min_severity": "medium", "messages": "3", "window": "10m", "allowed_lateness": "1h",
			"max_entries": "100",
		}
		k, v, _ := strings.Cut(field, ": ")
		e[k] = v
		var b strings.Builder
		b.WriteString("version: 1\nescalation:\n")
		for _, k := range []string{"id", "category", "severity", "score", "description", "min_severity", "messages", "window", "allowed_lateness", "max_entries", "bogus"} {
			if v, ok := e[k]; ok && v != "-" {
				b.WriteString("  " + k + ": " + v + "\n")
			}
		}
		b.WriteString("rules:" + validRule)
		return b.String()
	}
	tests := []struct {
		name, src string
		want      []string // substrings of the error
	}{
		{"empty file", "", []string{"bad.yaml", "empty"}},
		{"not yaml", "rules: [", []string{"bad.yaml", "yaml"}},
		{"two documents", "version: 1\nrules:" + validRule + "---\nversion: 1\n", []string{"more than one"}},
		{"no version", "rules:" + validRule, []string{"version"}},
		{"future version", "version: 2\nrules:" + validRule, []string{"version", "2"}},
		{"no rules", "version: 1\n", []string{"rules", "at least one"}},
		{"unknown top-level field", "version: 1\nrulez: []\nrules:" + validRule, []string{"bad.yaml", "rulez"}},
		{"unknown rule field", replace("    phrases:", "    phrase: [x]\n    phrases:"), []string{"bad.yaml", "phrase", "not found"}},
		{"unknown examples field", replace("      no_match:", "      matches: [x]\n      no_match:"), []string{"matches"}},
		{"no examples", replace("    examples:\n      match: [lol nobody likes you]\n      no_match: [nobody likes mondays]\n", ""), []string{"rules[0]", "harassment.degrading", "examples"}},
		{"no match examples", replace("      match: [lol nobody likes you]\n", ""), []string{"examples.match"}},
		{"no no_match examples", replace("      no_match: [nobody likes mondays]\n", ""), []string{"examples.no_match"}},
		{"empty no_match", replace("[nobody likes mondays]", "[]"), []string{"examples.no_match"}},
		{"match example that does not match", replace("[lol nobody likes you]", "[nobody likes him]"), []string{"examples.match[0]", "nobody likes him"}},
		{"no_match example that matches", replace("[nobody likes mondays]", "[ugh NOBODY likes you]"), []string{"examples.no_match[0]"}},
		{"bad id", replace("id: harassment.degrading", "id: Harassment Degrading"), []string{"id"}},
		{"unknown category", replace("category: harassment", "category: bullying"), []string{"category", "bullying"}},
		{"unknown severity", replace("severity: medium", "severity: severe"), []string{"severity", "severe"}},
		{"no score", replace("    score: 0.6\n", ""), []string{"score", "required"}},
		{"score above one", replace("score: 0.6", "score: 1.5"), []string{"score", "1.5"}},
		{"zero score", replace("score: 0.6", "score: 0"), []string{"score"}},
		{"mistyped score", replace("score: 0.6", "score: high"), []string{"bad.yaml", "high"}},
		{"no description", replace("    description: degrading\n", ""), []string{"description"}},
		{"no phrases", replace("[nobody likes you]", "[]"), []string{"phrases"}},
		{"phrase without words", replace("[nobody likes you]", "[nobody likes you, '!!!']"), []string{"phrases", "!!!"}},
		{"duplicate phrase", replace("[nobody likes you]", "[nobody likes you, Nobody Likes You]"), []string{"twice"}},
		{"duplicate id", "version: 1\nrules:" + validRule + validRule, []string{"rules[1]", "used twice"}},
		{"escalation unknown field", escalation("bogus: 1"), []string{"bogus"}},
		{"escalation bad window", escalation("window: ten minutes"), []string{"escalation", "window"}},
		{"escalation zero window", escalation("window: 0s"), []string{"escalation", "window"}},
		{"escalation no lateness", escalation("allowed_lateness: -"), []string{"escalation", "allowed_lateness"}},
		{"escalation negative lateness", escalation("allowed_lateness: -1m"), []string{"escalation", "allowed_lateness"}},
		{"escalation one message", escalation("messages: 1"), []string{"escalation", "messages"}},
		{"escalation no cap", escalation("max_entries: -"), []string{"escalation", "max_entries"}},
		{"escalation bad min_severity", escalation("min_severity: some"), []string{"escalation", "min_severity"}},
		{"escalation id of a rule", escalation("id: harassment.degrading"), []string{"escalation", "also a rule id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := Parse("bad.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("loaded: %+v", rs)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		text  string
		words []string
	}{
		{"Hello, World!", []string{"hello", "world"}},
		{"don't DON’T dont", []string{"don't", "don't", "dont"}},
		{"'quoted' rock'n'roll", []string{"quoted", "rock'n'roll"}},
		{"bit.ly/3xYz", []string{"bit", "ly", "3xyz"}},
		{"ÜBER straße ÇA", []string{"über", "straße", "ça"}},
		{"emoji😂between", []string{"emoji", "between"}},
		{"trailing' 'leading", []string{"trailing", "leading"}},
		{"", []string{}},
		{"\xff\xfeinvalid", []string{"invalid"}},
	}
	for _, tt := range tests {
		got := words(tt.text)
		if strings.Join(got, "|") != strings.Join(tt.words, "|") {
			t.Errorf("words(%q) = %q, want %q", tt.text, got, tt.words)
		}
	}
	var s scanner
	s.tokenize("Ça va? KYS")
	if tok := s.tokens[2]; "Ça va? KYS"[tok.start:tok.end] != "KYS" {
		t.Errorf("offsets of the third word: %+v", tok)
	}
}
