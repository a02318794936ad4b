package spam_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/spam"
	"github.com/goshawk-safety/goshawk/event"
)

// A blind campaign file (testdata/blind/<corpus>/*.yaml), written by
// someone who has not read the rules:
//
//	label: spam                        # or legit (a legitimate bulk sender)
//	kind: "crypto giveaway from three new accounts"
//	start: 2026-03-10T09:00:00Z
//	accounts: {promo_k: 2d, promo_l: 3h}   # the sending accounts and their ages at start (d, h, m)
//	messages:
//	  - [promo_k, r01, 0, "hi"]            # from, to ("a+b+c": one group conversation), time since the previous, text
//	  - [r01, promo_k, 4m, "who is this"]
//
// The label is the truth of the messages the accounts send; every other
// message (a reply) is not spam. Ids are prefixed with the file's name,
// so files share no people; the files are merged into one stream by time.
type blindFile struct {
	Label    string            `yaml:"label"`
	Kind     string            `yaml:"kind"`
	Start    time.Time         `yaml:"start"`
	Accounts map[string]string `yaml:"accounts"`
	Messages [][]string        `yaml:"messages"`
}

// parseSpan reads 0, 30s, 5m, 2h or 3d.
func parseSpan(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		return time.Duration(d) * 24 * time.Hour, err
	}
	return time.ParseDuration(s)
}

// readBlind loads a blind corpus as labelled messages in time order, with
// each message's campaign ("spam/<file>" or "legit/<file>").
func readBlind(t testing.TB, dir string) []labelled {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no blind campaign under %s (%v)", dir, err)
	}
	var out []labelled
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var f blindFile
		if err := yaml.Unmarshal(b, &f); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if f.Label != "spam" && f.Label != "legit" {
			t.Fatalf("%s: label %q, want spam or legit", path, f.Label)
		}
		created := map[string]time.Time{}
		for a, age := range f.Accounts {
			d, err := parseSpan(age)
			if err != nil {
				t.Fatalf("%s: accounts: %s: %v", path, a, err)
			}
			created[a] = f.Start.Add(-d)
		}
		at := f.Start
		for i, m := range f.Messages {
			if len(m) != 4 {
				t.Fatalf("%s: message %d: want [from, to, after, text]", path, i+1)
			}
			d, err := parseSpan(m[2])
			if err != nil {
				t.Fatalf("%s: message %d: %v", path, i+1, err)
			}
			at = at.Add(d)
			id := func(p string) string { return name + "-" + p }
			people := append([]string{m[0]}, strings.Split(m[1], "+")...)
			sorted := slices.Clone(people)
			sort.Strings(sorted)
			msg := &event.Message{
				MessageID:      fmt.Sprintf("%s-%03d", name, i+1),
				ConversationID: name + "-" + strings.Join(sorted, "-"),
				SentAt:         at,
				Sender:         event.Participant{ID: id(m[0])},
				Text:           m[3],
			}
			if c, ok := created[m[0]]; ok {
				msg.Sender.AccountCreatedAt = &c
			}
			for _, p := range people[1:] {
				msg.Recipients = append(msg.Recipients, event.Participant{ID: id(p)})
			}
			_, fromAccount := created[m[0]]
			out = append(out, labelled{msg: msg, campaign: f.Label + "/" + name, spam: f.Label == "spam" && fromAccount})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].msg.SentAt.Before(out[j].msg.SentAt) })
	return out
}

// blindScore is a blind corpus's result at medium or above.
type blindScore struct {
	msgs          tally // by message: campaign messages of spam files are the positives
	campaigns     tally // a spam campaign is found when one of its messages is flagged
	legit         int   // legitimate bulk senders
	legitFlagged  int   // … with a message flagged
	missed, false []string
	table         string
}

// scoreBlind runs a blind corpus through the engine and both stages, in
// time order, as a replay does.
func scoreBlind(t *testing.T, corpus []labelled) blindScore {
	t.Helper()
	set, fw := corpusForwards(t, corpus)
	stages, err := spam.NewStages(set.For(spam.Name))
	if err != nil {
		t.Fatal(err)
	}
	top := map[string]detectors.Flag{}
	for _, f := range fw {
		flags, err := spam.Route(f, stages)
		if err != nil {
			t.Fatal(err)
		}
		for _, fl := range flags {
			if old, ok := top[fl.MessageID]; !ok || fl.Severity.Rank() > old.Severity.Rank() {
				top[fl.MessageID] = fl
			}
		}
	}
	var sc blindScore
	byCampaign := map[string][]int{}
	for i, l := range corpus {
		byCampaign[l.campaign] = append(byCampaign[l.campaign], i)
	}
	names := make([]string, 0, len(byCampaign))
	for c := range byCampaign {
		names = append(names, c)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, c := range names {
		nSpam, hit, others := 0, 0, 0
		evidence := ""
		for _, i := range byCampaign[c] {
			l := corpus[i]
			f, ok := top[l.msg.MessageID]
			flagged := ok && f.Severity.Rank() >= detectors.Medium.Rank()
			sc.msgs.add(l.spam, flagged)
			if l.spam {
				nSpam++
			}
			switch {
			case flagged && l.spam:
				hit++
			case flagged:
				others++
				if evidence == "" {
					evidence = f.Evidence
				}
			}
		}
		if strings.HasPrefix(c, "spam/") {
			sc.campaigns.add(true, hit > 0)
			if hit == 0 {
				sc.missed = append(sc.missed, c)
			}
		} else {
			sc.legit++
			sc.campaigns.add(false, others > 0)
			if others > 0 {
				sc.legitFlagged++
				sc.false = append(sc.false, c+": "+evidence)
			}
		}
		fmt.Fprintf(&b, "  %-16s %3d messages, %3d spam, %3d of them flagged, %d others flagged\n", c, len(byCampaign[c]), nSpam, hit, others)
	}
	sc.table = b.String()
	return sc
}

func (s blindScore) summary() string {
	return fmt.Sprintf("at medium+, by message: precision %.3f (%d/%d), recall %.3f (%d/%d); spam campaigns found %d/%d; legitimate bulk senders flagged %d/%d (%.1f%%)",
		s.msgs.precision(), s.msgs.tp, s.msgs.tp+s.msgs.fp, s.msgs.recall(), s.msgs.tp, s.msgs.tp+s.msgs.fn,
		s.campaigns.tp, s.campaigns.tp+s.campaigns.fn, s.legitFlagged, s.legit, 100*float64(s.legitFlagged)/float64(max(1, s.legit)))
}

// TestBlindCorpora scores the blind corpora (testdata/blind/*), written by
// helpers who had not read the rules, and prints each with -v:
//
//	go test ./detectors/spam -run BlindCorpora -v
//
// With GOSHAWK_SPAM_BLIND_EXPORT=dir it also writes each corpus's messages
// as JSON lines (id, campaign, spam, text) for the comparison with
// SpamAssassin (scripts/spam-eval/spamassassin.sh).
func TestBlindCorpora(t *testing.T) {
	dirs, err := filepath.Glob("testdata/blind/*")
	if err != nil || len(dirs) == 0 {
		t.Fatal("no blind corpus under testdata/blind")
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			corpus := readBlind(t, dir)
			var spamFiles, legitFiles int
			seen := map[string]bool{}
			for _, l := range corpus {
				if !seen[l.campaign] {
					seen[l.campaign] = true
					if strings.HasPrefix(l.campaign, "spam/") {
						spamFiles++
					} else {
						legitFiles++
					}
				}
			}
			if spamFiles < 30 || legitFiles < 30 {
				t.Errorf("blind corpus %s has %d spam campaigns and %d legitimate bulk senders; want at least 30 of each", name, spamFiles, legitFiles)
			}
			sc := scoreBlind(t, corpus)
			t.Logf("blind corpus %s: %d messages\n%s%s\nmissed: %v\nlegitimate senders flagged:\n  %s", name, len(corpus), sc.table, sc.summary(), sc.missed, strings.Join(sc.false, "\n  "))
			legit := float64(sc.legitFlagged) / float64(max(1, sc.legit))
			if b, ok := blindFloors[name]; ok && (sc.msgs.precision() < b.precision || sc.msgs.recall() < b.recall || legit > b.maxLegit) {
				t.Errorf("blind corpus %s below its floor (precision %.2f, recall %.2f, legitimate senders flagged at most %.0f%%): %s", name, b.precision, b.recall, 100*b.maxLegit, sc.summary())
			}
			if out := os.Getenv("GOSHAWK_SPAM_BLIND_EXPORT"); out != "" {
				exportBlind(t, filepath.Join(out, name+".jsonl"), corpus)
			}
		})
	}
}

// blindFloors hold a blind corpus to the figures it reached when it was
// scored, so that a change that loses ground fails. They are floors, not
// the targets of issue #19 (precision 0.95, recall 0.85 by message,
// legitimate bulk senders at medium+ at most 2%). Corpus b was written on
// 2026-12-06 by a helper who had not read the rules, after the trust,
// artefact and family work and never read since: precision 1.000, recall
// 0.637, legitimate senders flagged 0 of 32; the code before that work
// (0885f10) scored 0.441, 0.542 and 21 of 32 on it. Corpus c (60 files)
// was written on 2026-12-07 by another such helper before the Bayes rule
// and never read: precision 0.911, recall 0.660, 2 of 30 legitimate
// senders flagged before it; 0.911, 0.662, 2 of 30 after (bands 0.5, 1.0,
// 1.4). b is 1.000, 0.641, 0 of 32 after. Later that day c's misses were
// read for content frames (sextortion, MLM, trading signals, airdrops, job
// scams, friends-and-family payment, gift-card codes): c scores 0.921,
// 0.751, 2 of 30 and b 1.000, 0.669, 0 of 32 after them. Corpus d (64
// files, 927 messages) was written before those frames by a helper who had
// not read the rules, and never read: 0.958, 0.433, 1 of 32 before them;
// 0.960, 0.458, 1 of 32 after. Corpus e (64 files, 11 campaigns
// obfuscated, nine from accounts 200+ days old) was written in a later
// session by another such helper, before cold_wording_fanout (the other
// cold conversations whose message has scam wording; read from d's
// partly caught campaigns, d is a development set now), and never read:
// 0.851, 0.359, 3 of 32 before it; 0.892, 0.521, 3 of 32 after. b scores
// 1.000, 0.735, 0 of 32 after it, c 0.927, 0.819, 2 of 30, d 0.968,
// 0.578, 1 of 32. Corpus f (64 files, 1,217 messages) was written on
// 2026-12-07 (a third session) by another such helper, for the next
// detector change, and scored on the code before it: 1.000, 0.816, 0 of
// 32 (27 of 32 campaigns found). Nobody has read it.
var blindFloors = map[string]struct{ precision, recall, maxLegit float64 }{
	"b": {precision: 0.97, recall: 0.72, maxLegit: 0.02},
	"c": {precision: 0.90, recall: 0.80, maxLegit: 0.07},
	"d": {precision: 0.94, recall: 0.55, maxLegit: 0.04},
	"e": {precision: 0.93, recall: 0.75, maxLegit: 0.07},
	"f": {precision: 0.98, recall: 0.82, maxLegit: 0.02},
	"g": {precision: 0.98, recall: 0.28, maxLegit: 0.02},
}

func exportBlind(t *testing.T, path string, corpus []labelled) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	for _, l := range corpus {
		if err := enc.Encode(map[string]any{"id": l.msg.MessageID, "campaign": l.campaign, "spam": l.spam, "text": l.msg.Text}); err != nil {
			t.Fatal(err)
		}
	}
}
