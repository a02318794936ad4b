package console_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/goshawk-safety/goshawk/dashboards/console"
	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/triage"
)

const chromiumPath = "/usr/bin/chromium"

// artifactsDir is where the browser test keeps its screenshots:
// $GOSHAWK_ARTIFACTS, or a temporary directory.
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("GOSHAWK_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// reviewFixture is a small, realistic review queue: a grooming
// conversation, harassment, spam, and shadow flags that must not show.
func reviewFixture() []detectors.Flag {
	type msg struct {
		conv, sender, rule string
		cat                detectors.Category
		sev                detectors.Severity
		mode               detectors.Mode
		ago                time.Duration
		evidence           string
	}
	msgs := []msg{
		{"c-7f3a", "u-4410", "grooming.secrecy", detectors.Grooming, detectors.High, detectors.Live, 3*time.Hour + 10*time.Minute, "ok but i need you to know that [this stays between us], dont tell your mum about our chats, she wouldnt get it"},
		{"c-7f3a", "u-4410", "grooming.isolation_probe", detectors.Grooming, detectors.Medium, detectors.Live, 3*time.Hour + 40*time.Minute, "random question but [are your parents home a lot]? like do they check your phone or are you alone after school"},
		{"c-7f3a", "u-4410", "grooming.platform_move", detectors.Grooming, detectors.Low, detectors.Live, 2*time.Hour + 55*time.Minute, "this app is so laggy lol, [add me on snap] its way easier to talk privately there"},
		{"c-7f3a", "u-4410", "grooming.meet_alone", detectors.Grooming, detectors.Critical, detectors.Live, 2*time.Hour + 20*time.Minute, "i could pick you up after practice on friday, [just you and me], nobody has to know where you went ok"},
		{"c-7f3a", "u-4410", "grooming.gifts", detectors.Grooming, detectors.Medium, detectors.Live, 2*time.Hour + 50*time.Minute, "you did so well this week so [i can send you a gift card] for the game, just dont mention it to anyone"},
		{"c-19bd", "u-2231", "harassment.self_harm_incitement", detectors.Harassment, detectors.Critical, detectors.Live, 55 * time.Minute, "nobody at school would even notice. honestly [you should just kys] and do everyone a favour, loser"},
		{"c-19bd", "u-2231", "harassment.threat", detectors.Harassment, detectors.High, detectors.Live, 70 * time.Minute, "say that again tomorrow and i swear [i will find you after class and hurt you], you wont see it coming"},
		{"c-19bd", "u-2231", "harassment.insult", detectors.Harassment, detectors.Low, detectors.Live, 80 * time.Minute, "lmao look at this [idiot] trying to play ranked again"},
		{"c-5c02", "u-9007", "harassment.degrading", detectors.Harassment, detectors.Medium, detectors.Live, 5 * time.Hour, "nobody wants you in this server, [you are worthless] and everyone laughs at you behind your back"},
		{"c-a8e1", "u-0311", "spam.phishing", detectors.Spam, detectors.High, detectors.Live, 25 * time.Minute, "your account will be suspended in 24h, [verify your login details] at the link below to keep access"},
		{"c-a8e1", "u-0311", "spam.crypto", detectors.Spam, detectors.High, detectors.Live, 4 * time.Hour, "guaranteed 10x returns, [send 0.1 btc to my wallet] and i will send back double within an hour, legit"},
		{"c-3390", "u-7781", "spam.prize", detectors.Spam, detectors.High, detectors.Live, 6 * time.Hour, "congratulations!! you were selected to [win a free iphone], claim your prize now before it expires"},
		{"c-3390", "u-7781", "spam.gift_card", detectors.Spam, detectors.Low, detectors.Live, 7 * time.Hour, "[free steam gift cards] for the first 100 people who message me, no catch, just follow the steps"},
		{"c-6d4e", "u-5120", "grooming.maturity_flattery", detectors.Grooming, detectors.Medium, detectors.Live, 90 * time.Minute, "i mean it though, [you are so mature for your age], honestly you get me better than anyone my age"},
		{"c-6d4e", "u-5120", "grooming.age_probe", detectors.Grooming, detectors.Low, detectors.Live, 100 * time.Minute, "wait [how old are you] actually? you seem older than the others in this group chat tbh"},
		{"c-6d4e", "u-5120", "grooming.photo_request", detectors.Grooming, detectors.Medium, detectors.Live, 40 * time.Minute, "go on, [send me a pic] of what you are wearing today, just for me, i wont show anyone i promise"},
		{"c-2b7c", "u-6666", "spam.off_platform_contact", detectors.Spam, detectors.Medium, detectors.Live, 8 * time.Hour, "for business inquiries and promos [dm me on telegram], link in my bio, fast replies guaranteed"},
		{"c-19bd", "u-2231", "harassment.threat.v2", detectors.Harassment, detectors.High, detectors.Shadow, 70 * time.Minute, "SHADOW-ONLY say that again tomorrow and i swear [i will find you] after class and hurt you"},
		{"c-7f3a", "u-4410", "grooming.secrecy.v2", detectors.Grooming, detectors.Critical, detectors.Shadow, 3 * time.Hour, "SHADOW-ONLY ok but [this stays between us], dont tell your mum about our chats, she wouldnt"},
	}
	var flags []detectors.Flag
	for i, m := range msgs {
		// The text marks the match with [ ]; the evidence is cut around it
		// as the engine cuts it (context 20, as newEnv's console expects).
		start, end := strings.Index(m.evidence, "["), strings.Index(m.evidence, "]")
		text := m.evidence[:start] + m.evidence[start+1:end] + m.evidence[end+1:]
		m.evidence = detectors.Excerpt(text, start, end-1, 20)
		id := fmt.Sprintf("msg-%04d", 7000+i)
		at := now.Add(-m.ago)
		flags = append(flags, detectors.Flag{
			FlagID: detectors.FlagID(id, "keyword", m.rule), MessageID: id, ConversationID: m.conv,
			SenderID: m.sender, RecipientIDs: []string{"u-1" + m.sender[2:]}, Category: m.cat, Detector: "keyword",
			Rule: m.rule, RuleVersion: fmt.Sprintf("%016x", 0x9e3779b9*(i+1)), Mode: m.mode, Severity: m.sev,
			Score: 0.55 + float64(i%9)/20, Evidence: m.evidence, SentAt: at.Add(-800 * time.Millisecond), DetectedAt: at,
		})
	}
	return flags
}

// TestBrowser drives the console in a real headless Chromium: log in, look
// at the queue, open a flag with the keyboard, record a verdict with the
// keyboard, and find it in the store.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("GOSHAWK_INTEGRATION") == "1" {
			t.Fatalf("%s is missing and GOSHAWK_INTEGRATION=1 (apt-get install -y chromium): %v", chromiumPath, err)
		}
		t.Skipf("browser test: %s is missing (apt-get install -y chromium)", chromiumPath)
	}
	start := time.Now()
	dir := artifactsDir(t)
	flags := reviewFixture()
	e := newEnv(t, flags)

	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 768),
	)
	defer cancel()
	browser, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(browser); err != nil { // starts the browser; no timeout on this first call
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	t.Logf("browser started after %v", time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(browser, 90*time.Second)
	defer cancel()

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v (screenshots in %s)", what, err, dir)
		}
	}
	get := func(what string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	selectedRow := func() string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#queue tr.selected"), "id"))
		if err != nil {
			t.Fatalf("selected row: %v", err)
		}
		return v.Value
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.CaptureScreenshot()(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name), buf, 0o644)
		})
	}

	do("open the console", chromedp.Navigate(e.srv.URL+"/console/"), chromedp.WaitVisible(chromedp.ID("token")), shot("login.png"))
	title := get("title", chromedp.Title())
	do("log in",
		chromedp.SendKeys(chromedp.ID("token"), e.tokens[console.Analyst]),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS("#queue tr.selected")),
		shot("queue.png"))
	// j moves to the second flag, o opens it.
	do("j", chromedp.KeyEvent("j"))
	selected := selectedRow()
	do("o", chromedp.KeyEvent("o"), chromedp.WaitVisible(chromedp.ID("decide")), shot("flag.png"))
	url1 := get("location", chromedp.Location())
	// A note, Esc to leave it, then c confirms.
	do("note and c",
		chromedp.SendKeys(chromedp.ID("note"), "Checked the conversation: secrecy request to a minor."),
		chromedp.KeyEvent(kb.Escape),
		chromedp.KeyEvent("c"),
		chromedp.WaitVisible(chromedp.CSS("#status.st-confirmed")),
		shot("verdict.png"))
	status := get("status", chromedp.Text(chromedp.ID("status")))
	// u goes back to the queue.
	do("u", chromedp.KeyEvent("u"), chromedp.WaitVisible(chromedp.CSS("#queue tr.selected")))
	url2 := get("location", chromedp.Location())

	if !strings.Contains(title, "Log in") {
		t.Errorf("first page title %q, want the login page", title)
	}
	live := sortedLive(flags)
	opened := live[1].FlagID
	if selected != "f-"+opened || !strings.Contains(url1, "/console/flags/"+opened) {
		t.Fatalf("j then o opened %s (selected %s), want the second flag %s", url1, selected, opened)
	}
	if status != "confirmed" {
		t.Errorf("status shown %q", status)
	}
	it, err := e.store.Flag(context.Background(), opened)
	if err != nil {
		t.Fatal(err)
	}
	if v := it.Verdict; v == nil || v.Verdict != triage.Confirmed || v.Analyst != "alice" ||
		v.Note != "Checked the conversation: secrecy request to a minor." || !v.DecidedAt.Equal(now) {
		t.Fatalf("stored verdict %+v", it.Verdict)
	}

	// Back on the queue (the confirmed flag is gone from it): dismiss the
	// first flag with d and see the queue reload without it.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`sessionStorage.clear()`)); err != nil {
		t.Fatal(err)
	}
	do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#queue tr.selected")))
	first := selectedRow()
	do("d", chromedp.KeyEvent("d"), chromedp.WaitVisible(chromedp.CSS("p.flash")), chromedp.WaitVisible(chromedp.CSS("#queue tr.selected")),
		shot("queue-after.png"))
	firstAfter := selectedRow()
	if first != "f-"+live[0].FlagID || firstAfter == first {
		t.Errorf("d on %s: selection afterwards %s", first, firstAfter)
	}
	if it, _ := e.store.Flag(context.Background(), live[0].FlagID); it.Status() != triage.Dismissed || it.Verdict.Analyst != "alice" {
		t.Errorf("after d: %+v", it.Verdict)
	}
	if strings.Contains(url2, "SHADOW") || strings.Contains(url1, "between us") {
		t.Errorf("URL carries evidence: %s %s", url1, url2)
	}
	t.Logf("browser test took %v; screenshots in %s", time.Since(start).Round(time.Millisecond), dir)
}
