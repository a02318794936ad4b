package spam_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// The labelled corpus (testdata/corpus.jsonl) is written by the scripts in
// this file: each campaign, spam or benign, is a sequence of messages with
// its timing, accounts and conversations, written out as message events.
// The file is checked in; TestCorpusFileIsUpToDate fails when the scripts
// and the file disagree, and
//
//	go test ./detectors/spam -run CorpusFileIsUpToDate -update
//
// rewrites it.
var update = flag.Bool("update", false, "rewrite testdata/corpus.jsonl from the campaign scripts")

const corpusFile = "testdata/corpus.jsonl"

// corpusLine is one line of the corpus: a message event, the campaign it
// belongs to, and whether the message itself is spam (a scammer's message)
// or not (a victim's reply, a benign campaign, background chat).
type corpusLine struct {
	Campaign string          `json:"campaign"` // spam/... or benign/...
	Spam     bool            `json:"spam"`
	Message  json.RawMessage `json:"message"`
}

type wireParticipant struct {
	ID               string  `json:"id"`
	AccountCreatedAt *string `json:"account_created_at,omitempty"`
}

type wireMessage struct {
	MessageID      string            `json:"message_id"`
	ConversationID string            `json:"conversation_id"`
	SentAt         string            `json:"sent_at"`
	Sender         wireParticipant   `json:"sender"`
	Recipients     []wireParticipant `json:"recipients"`
	Text           string            `json:"text"`
}

// corpusStart is the corpus's day: everything happens on it, plus history
// of the friendships a week before.
var corpusStart = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

type gen struct {
	rng      *rand.Rand
	lines    []corpusLine
	at       []time.Time
	n        int
	campaign string
	created  map[string]time.Time
}

// account registers a user created age before t (the corpus start when t
// is zero).
func (g *gen) account(id string, age time.Duration) string {
	if _, ok := g.created[id]; !ok {
		g.created[id] = corpusStart.Add(-age)
	}
	return id
}

// send writes one message of the current campaign.
func (g *gen) send(conv, from string, to []string, at time.Time, spam bool, text string) {
	g.n++
	m := wireMessage{
		MessageID: fmt.Sprintf("m%05d", g.n), ConversationID: conv, SentAt: at.Format(time.RFC3339Nano),
		Sender: wireParticipant{ID: from}, Text: text,
	}
	if c, ok := g.created[from]; ok {
		s := c.Format(time.RFC3339)
		m.Sender.AccountCreatedAt = &s
	}
	for _, r := range to {
		m.Recipients = append(m.Recipients, wireParticipant{ID: r})
	}
	raw, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	g.lines = append(g.lines, corpusLine{Campaign: g.campaign, Spam: spam, Message: raw})
	g.at = append(g.at, at)
}

func (g *gen) pick(s []string) string { return s[g.rng.IntN(len(s))] }

func (g *gen) code() string { return fmt.Sprintf("%08x", g.rng.Uint32()) }

// befriend gives two users a conversation with history from a week ago, so
// that what they write today is not a first contact.
func (g *gen) befriend(conv, a, b string) {
	at := corpusStart.Add(-7*24*time.Hour + time.Duration(g.rng.IntN(3600))*time.Second)
	g.send(conv, a, []string{b}, at, false, g.pick(smallTalk))
	g.send(conv, b, []string{a}, at.Add(time.Duration(30+g.rng.IntN(300))*time.Second), false, g.pick(smallTalk))
}

var (
	firstNames = []string{"Sarah", "Mike", "Anna", "Tom", "Lucy", "Omar", "Priya", "Jack", "Maria", "Chen", "Fatima", "Leo", "Zoe", "Ravi", "Emma", "Noah"}
	smallTalk  = []string{"hey, how's it going?", "all good here, you?", "did you see the game last night?", "haha yes", "what are you up to this weekend?",
		"not much, maybe a film", "ok", "lol", "thanks!", "see you tomorrow", "sounds good", "omg same", "can you send me the notes from class?",
		"sure, give me a sec", "running late, 10 min", "no worries", "happy to help", "nice one", "👍", "good night"}
	shorteners = []string{"bit.ly", "tinyurl.com", "cutt.ly", "rb.gy", "is.gd", "t.ly"}
)

func (g *gen) link() string { return g.pick(shorteners) + "/" + g.code()[:6] }

// strangers returns n new user ids, who never wrote to the sender before.
func strangers(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%02d", prefix, i)
	}
	return out
}

// fanout sends one scripted message to each of the targets, from
// start at random gaps within [minGap, maxGap]; victims sometimes reply.
func (g *gen) fanout(bot string, targets []string, start time.Time, minGap, maxGap time.Duration, text func(i int) string, replies float64) time.Time {
	at := start
	for i, v := range targets {
		conv := "c-" + bot + "-" + v
		g.send(conv, bot, []string{v}, at, true, text(i))
		if g.rng.Float64() < replies {
			g.send(conv, v, []string{bot}, at.Add(time.Duration(20+g.rng.IntN(600))*time.Second), false, g.pick([]string{"who is this?", "stop messaging me", "is this real?", "no thanks", "reported", "??"}))
		}
		at = at.Add(minGap + time.Duration(g.rng.Int64N(int64(maxGap-minGap)+1)))
	}
	return at
}

func buildCorpus() []corpusLine {
	g := &gen{rng: rand.New(rand.NewPCG(2026, 5)), created: map[string]time.Time{}}
	day := func(h, m int) time.Time {
		return corpusStart.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	name := func() string { return g.pick(firstNames) }

	// ------------------------------------------------------------ spam
	g.campaign = "spam/prize-fanout-new-account"
	bot := g.account("s01-bot", 2*time.Hour)
	g.fanout(bot, strangers("s01-v", 60), day(1, 0), 20*time.Second, 70*time.Second, func(int) string {
		return fmt.Sprintf("Congratulations %s! You have won a $%d gift card. Claim your prize at %s before it expires", name(), 100*(1+g.rng.IntN(10)), g.link())
	}, 0.25)

	g.campaign = "spam/phishing-lookalike"
	bot = g.account("s02-bot", 6*time.Hour)
	g.fanout(bot, strangers("s02-v", 30), day(2, 10), 30*time.Second, 60*time.Second, func(int) string {
		return fmt.Sprintf("%s, your account will be suspended due to unusual activity. Verify your account here: paypa1-verify.com/%s", name(), g.code())
	}, 0.2)

	g.campaign = "spam/crypto-cluster"
	for a := range 12 {
		bot := g.account(fmt.Sprintf("s03-bot%02d", a), time.Duration(24+g.rng.IntN(48))*time.Hour)
		handle := strings.ToLower(name()) + fmt.Sprint(g.rng.IntN(100))
		g.fanout(bot, strangers(fmt.Sprintf("s03-v%02d", a), 5), day(3, g.rng.IntN(40)), 3*time.Minute, 12*time.Minute, func(int) string {
			return fmt.Sprintf("Hi dear, I am %s, an investment manager. Send %d USDT and get 10x back, guaranteed returns. Add me on telegram @%s", name(), 200*(1+g.rng.IntN(10)), handle)
		}, 0.3)
	}

	g.campaign = "spam/burst-bot-links"
	bot = g.account("s04-bot", 30*24*time.Hour)
	g.fanout(bot, strangers("s04-v", 40), day(4, 0), 3*time.Second, 6*time.Second, func(int) string {
		return "hey 😘 check my profile " + g.link()
	}, 0.1)

	g.campaign = "spam/punycode-steam"
	bot = g.account("s05-bot", 3*24*time.Hour)
	g.fanout(bot, strangers("s05-v", 15), day(4, 30), time.Minute, 3*time.Minute, func(int) string {
		return "Hey, is this your skin on the market? https://xn--steamcommunty-eil.com/tradeoffer/" + g.code()
	}, 0.2)

	g.campaign = "spam/gift-card-ceo"
	bot = g.account("s06-ceo", 20*24*time.Hour)
	for i, v := range strangers("s06-colleague", 14) {
		conv := "c-s06-" + v
		at := day(5, 0).Add(time.Duration(i*40+g.rng.IntN(30)) * time.Second)
		g.send(conv, bot, []string{v}, at, true, fmt.Sprintf("Hi %s, I'm in a meeting and need a quick favour. Can you buy gift cards for a client? I'll pay you back today, just send me the codes", name()))
		if i%2 == 0 {
			g.send(conv, v, []string{bot}, at.Add(5*time.Minute), false, "sure, which ones and how many?")
			g.send(conv, bot, []string{v}, at.Add(7*time.Minute), true, "4 Apple cards of $100 each. Scratch the back and send pictures of the cards here")
		}
	}

	g.campaign = "spam/advance-fee-letters"
	bot = g.account("s07-bot", 26*time.Hour)
	g.fanout(bot, strangers("s07-v", 12), day(5, 30), 90*time.Second, 3*time.Minute, func(int) string {
		return fmt.Sprintf("Dear friend, I am barrister %s, attorney to the late engineer who died with his family. You are the next of kin to my late client "+
			"and the bank will release the funds of $%d.5 million to you. To release the funds we need a small processing fee of $%d. Reply to this "+
			"message with your full name and phone number and I will send the documents. This is confidential, do not tell anyone.", name(), 4+g.rng.IntN(6), 150+g.rng.IntN(300))
	}, 0.15)

	g.campaign = "spam/romance-payment"
	bot = g.account("s08-romeo", 45*24*time.Hour)
	for i, v := range strangers("s08-v", 4) {
		conv := "c-s08-" + v
		at := day(6, 0).Add(time.Duration(i*7) * time.Minute)
		for j, line := range []string{"hello beautiful, your profile made my day", "I am an engineer on an oil rig, it is lonely here", "you are so kind, I feel we have a connection"} {
			g.send(conv, bot, []string{v}, at.Add(time.Duration(j*20)*time.Minute), false, line)
			g.send(conv, v, []string{bot}, at.Add(time.Duration(j*20+5)*time.Minute), false, g.pick([]string{"aw thank you", "that sounds hard", "haha maybe", "tell me more"}))
		}
		g.send(conv, bot, []string{v}, at.Add(90*time.Minute), true, "My love, I need money for the flight to come and see you. Can you send it through Western Union? Text me on whatsapp, this app is bad for money things")
		g.send(conv, bot, []string{v}, at.Add(100*time.Minute), true, "Please my dear, it is only $800, I need you to send me money today so I can book the ticket")
	}

	g.campaign = "spam/sextortion"
	bot = g.account("s09-bot", 30*time.Hour)
	for i, v := range strangers("s09-v", 10) {
		conv := "c-s09-" + v
		at := day(7, 0).Add(time.Duration(i*100+g.rng.IntN(60)) * time.Second)
		g.send(conv, bot, []string{v}, at, true, fmt.Sprintf("I have your photos. Pay $%d in bitcoin or I will send them to your family and friends. You have 24 hours to pay.", 300+100*g.rng.IntN(5)))
		g.send(conv, bot, []string{v}, at.Add(10*time.Minute), true, "Don't ignore me. Pay now or everyone will see.")
	}

	g.campaign = "spam/fake-support-code"
	bot = g.account("s10-bot", 5*time.Hour)
	g.fanout(bot, strangers("s10-v", 25), day(7, 30), 20*time.Second, 50*time.Second, func(int) string {
		return "This is the official support team. Your account has been locked. Send me the verification code we sent to your phone to unlock it"
	}, 0.2)

	g.campaign = "spam/job-scam"
	bot = g.account("s11-bot", 50*time.Hour)
	g.fanout(bot, strangers("s11-v", 30), day(8, 0), 60*time.Second, 140*time.Second, func(int) string {
		return fmt.Sprintf("Part time job offer: like videos and earn up to $%d a day, no experience needed. Message me on whatsapp for details", 100+50*g.rng.IntN(6))
	}, 0.2)

	g.campaign = "spam/delivery-fee-lookalike"
	bot = g.account("s12-bot", 50*time.Hour)
	g.fanout(bot, strangers("s12-v", 40), day(9, 0), 40*time.Second, 110*time.Second, func(int) string {
		return fmt.Sprintf("%s: your parcel is on hold due to an unpaid shipping fee. Pay the redelivery fee here: dhl-redelivery-fee.com/%s", g.pick([]string{"DHL", "Parcel service", "Delivery"}), g.code())
	}, 0.2)

	g.campaign = "spam/compromised-account"
	bot = g.account("s13-hacked", 3*365*24*time.Hour)
	friends := strangers("s13-friend", 35)
	for _, f := range friends {
		g.account(f, 2*365*24*time.Hour)
		g.befriend("c-s13-"+f, bot, f)
	}
	at := day(10, 0)
	for _, f := range friends {
		g.send("c-s13-"+f, bot, []string{f}, at, true, "omg is this you in this video?? "+g.link())
		at = at.Add(time.Duration(3+g.rng.IntN(4)) * time.Second)
	}

	g.campaign = "spam/many-links"
	bot = g.account("s14-bot", 6*time.Hour)
	g.fanout(bot, strangers("s14-v", 20), day(10, 30), 40*time.Second, 80*time.Second, func(int) string {
		return "cheap followers and likes 🔥 fast-followers.shop best-likes.top cheap-views.xyz"
	}, 0.1)

	g.campaign = "spam/reworded-prize-cluster"
	for a := range 20 {
		bot := g.account(fmt.Sprintf("s15-bot%02d", a), time.Duration(20+g.rng.IntN(100))*time.Hour)
		g.fanout(bot, strangers(fmt.Sprintf("s15-v%02d", a), 3), day(11, g.rng.IntN(45)), 2*time.Minute, 6*time.Minute, func(int) string {
			return fmt.Sprintf("%s!! You've been selected to receive a FREE iPhone 15 🎁 Claim your reward now at %s (only %d left)", g.pick([]string{"Congrats", "Congratulations", "Great news"}), g.link(), 2+g.rng.IntN(9))
		}, 0.2)
	}

	g.campaign = "spam/slow-drip-crypto"
	bot = g.account("s16-bot", 10*24*time.Hour)
	g.fanout(bot, strangers("s16-v", 12), day(12, 0), 28*time.Minute, 32*time.Minute, func(int) string {
		return fmt.Sprintf("I made $%d this month with crypto, guaranteed profits every week. Want me to teach you how to trade?", 1000*(2+g.rng.IntN(8)))
	}, 0.3)

	g.campaign = "spam/group-invasion"
	bot = g.account("s17-bot", 20*time.Hour)
	for i := range 8 {
		conv := fmt.Sprintf("c-s17-group%d", i)
		members := strangers(fmt.Sprintf("s17-g%d", i), 6)
		for j, m := range members[:3] {
			g.send(conv, m, members, day(13, 0).Add(time.Duration(i*3+j)*time.Minute), false, g.pick(smallTalk))
		}
		g.send(conv, bot, members, day(13, 30).Add(time.Duration(i*90)*time.Second), true, "🚀 Join our crypto investment group, guaranteed returns every day: t.me/"+g.code())
	}

	g.campaign = "spam/typing-bot"
	bot = g.account("s18-bot", 22*time.Hour)
	g.fanout(bot, strangers("s18-v", 10), day(14, 0), 2*time.Second, 4*time.Second, func(int) string {
		return "BEST PRICES ONLINE!!! Genuine medicines without prescription, discreet worldwide shipping, 80% cheaper than your pharmacy, " +
			"pay with card or crypto, 24/7 support, thousands of happy customers, order today and get a free gift with every order over $50, " +
			"visit www.cheap-meds-online.top now, limited stock, don't miss out, tell your friends and family about us!!!"
	}, 0)

	g.campaign = "spam/discord-nitro-lookalike"
	bot = g.account("s19-bot", 4*time.Hour)
	g.fanout(bot, strangers("s19-v", 25), day(14, 30), 30*time.Second, 60*time.Second, func(int) string {
		return "Free Discord Nitro for 3 months! Claim your free gift here before it runs out: dlscord-gift.com/" + g.code()
	}, 0.2)

	g.campaign = "spam/advance-fee-old-account"
	bot = g.account("s20-bot", 2*365*24*time.Hour)
	g.fanout(bot, strangers("s20-v", 3), day(15, 0), 20*time.Minute, 40*time.Minute, func(int) string {
		return "Good day. I am contacting you about an unclaimed inheritance of $7.2 million. As the beneficiary of the late Mr. Adams you only need to pay the clearance fee to receive it."
	}, 0.3)

	g.campaign = "spam/off-platform-crypto"
	for a := range 5 {
		bot := g.account(fmt.Sprintf("s21-bot%d", a), 48*time.Hour)
		handle := strings.ToLower(name()) + "_fx"
		g.fanout(bot, strangers(fmt.Sprintf("s21-v%d", a), 5), day(15, 30+g.rng.IntN(20)), 2*time.Minute, 5*time.Minute, func(int) string {
			return fmt.Sprintf("I made $%d this week trading crypto, add me on telegram @%s and I'll show you how", 1000*(3+g.rng.IntN(7)), handle)
		}, 0.2)
	}

	g.campaign = "spam/shortener-rotation-phish"
	bot = g.account("s22-bot", 12*time.Hour)
	g.fanout(bot, strangers("s22-v", 50), day(16, 0), 30*time.Second, 70*time.Second, func(int) string {
		return fmt.Sprintf("%s, your Netflix payment failed. Update your payment here to keep watching: %s", name(), g.link())
	}, 0.15)

	// ---------------------------------------------------------- benign
	g.campaign = "benign/teacher-class-announcement"
	teacher := g.account("b01-teacher", 4*365*24*time.Hour)
	class := strangers("b01-student", 25)
	g.send("c-b01-class", teacher, class, day(1, 15), false, "Reminder: the science trip is on Friday. Bring a packed lunch and the signed form, details here: https://www.example-school.org/trips/science")
	for i, s := range class[:12] {
		g.send("c-b01-class", s, append([]string{teacher}, class[:i]...), day(1, 16+i), false, g.pick([]string{"ok", "thanks!", "thank you miss", "👍", "got it"}))
	}

	g.campaign = "benign/friends-share-meme"
	for i := range 30 {
		a, b := g.account(fmt.Sprintf("b02-u%02d", i), 900*24*time.Hour), g.account(fmt.Sprintf("b02-u%02d", (i+7)%30), 900*24*time.Hour)
		conv := fmt.Sprintf("c-b02-%02d", i)
		g.befriend(conv, a, b)
		at := day(2, 0).Add(time.Duration(g.rng.IntN(3000)) * time.Second)
		g.send(conv, a, []string{b}, at, false, "lol look at this https://imgur.com/gallery/dogskate")
		g.send(conv, b, []string{a}, at.Add(time.Minute), false, g.pick([]string{"hahaha", "lol", "omg", "😂😂"}))
	}

	g.campaign = "benign/ok-thanks-lol"
	for i := range 100 {
		a, b := g.account(fmt.Sprintf("b03-u%03d", i), 500*24*time.Hour), g.account(fmt.Sprintf("b03-w%03d", i), 500*24*time.Hour)
		conv := fmt.Sprintf("c-b03-%03d", i)
		at := day(3, 0).Add(time.Duration(g.rng.IntN(3600)) * time.Second)
		g.send(conv, b, []string{a}, at, false, "sent you the file")
		g.send(conv, a, []string{b}, at.Add(30*time.Second), false, g.pick([]string{"ok", "thanks", "lol", "ok thanks", "thx!"}))
	}

	g.campaign = "benign/forwarded-delivery-notice"
	for i := range 40 {
		a, b := g.account(fmt.Sprintf("b04-u%02d", i), 700*24*time.Hour), g.account(fmt.Sprintf("b04-fam%02d", i), 700*24*time.Hour)
		conv := fmt.Sprintf("c-b04-%02d", i)
		g.befriend(conv, a, b)
		g.send(conv, a, []string{b}, day(4, 0).Add(time.Duration(g.rng.IntN(3600))*time.Second), false,
			fmt.Sprintf("Your DHL parcel %d is out for delivery today between 10:00 and 14:00, track it here: https://www.dhl.com/track?id=%d can you be home for it?", 100000+g.rng.IntN(900000), g.rng.IntN(1e9)))
	}

	g.campaign = "benign/shop-owner-replies"
	shop := g.account("b05-shop", 2*365*24*time.Hour)
	for i := range 40 {
		c := g.account(fmt.Sprintf("b05-customer%02d", i), 300*24*time.Hour)
		conv := fmt.Sprintf("c-b05-%02d", i)
		at := day(5, 0).Add(time.Duration(i*70+g.rng.IntN(60)) * time.Second)
		g.send(conv, c, []string{shop}, at, false, "hi, do you still have the blue ceramic mug?")
		g.send(conv, shop, []string{c}, at.Add(time.Duration(60+g.rng.IntN(120))*time.Second), false, "Thanks for your message! Yes, it is in stock, you can order it here: https://www.tidy-mugs.example.com/blue-mug")
	}

	g.campaign = "benign/club-organiser"
	coach := g.account("b06-coach", 3*365*24*time.Hour)
	members := strangers("b06-member", 25)
	for i, m := range members {
		g.account(m, 400*24*time.Hour)
		g.befriend("c-b06-"+m, coach, m)
		g.send("c-b06-"+m, coach, []string{m}, day(6, 0).Add(time.Duration(i*20)*time.Second), false, "Practice moved to 6pm on Thursday this week because of the pitch repairs, see you there!")
	}

	g.campaign = "benign/birthday-wishes"
	star := g.account("b07-star", 1000*24*time.Hour)
	for i := range 40 {
		f := g.account(fmt.Sprintf("b07-friend%02d", i), 800*24*time.Hour)
		g.send(fmt.Sprintf("c-b07-%02d", i), f, []string{star}, day(7, 0).Add(time.Duration(g.rng.IntN(5400))*time.Second), false,
			g.pick([]string{"Happy birthday!! Hope you have an amazing day 🎂", "happy birthday! hope you have an amazing day", "Happy birthday!!! hope you have an amazing day and a great year"}))
	}

	g.campaign = "benign/rapid-chatter"
	a, b := g.account("b08-a", 600*24*time.Hour), g.account("b08-b", 600*24*time.Hour)
	g.befriend("c-b08", a, b)
	at = day(8, 0)
	for i := range 30 {
		from, to := a, b
		if i%3 == 2 {
			from, to = b, a
		}
		g.send("c-b08", from, []string{to}, at, false, g.pick([]string{"omg", "no way", "wait what", "LOL", "did he really say that", "i can't", "hahaha", "stop it", "ok ok", "tell me everything"}))
		at = at.Add(time.Duration(2+g.rng.IntN(4)) * time.Second)
	}

	g.campaign = "benign/new-phone-new-account"
	n := g.account("b09-newme", time.Hour)
	for i, f := range strangers("b09-friend", 3) {
		g.send("c-b09-"+f, n, []string{f}, day(8, 30).Add(time.Duration(i*3)*time.Minute), false, "hey it's Jamie, lost my old phone so this is my new account, save it!")
	}

	g.campaign = "benign/new-account-shares-link"
	n = g.account("b10-new", 3*time.Hour)
	g.send("c-b10", n, []string{"b10-friend"}, day(9, 0), false, "this is the flat I told you about https://www.rightmove.co.uk/properties/1234567")

	g.campaign = "benign/support-agent-template"
	agent := g.account("b11-agent", 5*365*24*time.Hour)
	for i := range 60 {
		c := g.account(fmt.Sprintf("b11-cust%02d", i), 200*24*time.Hour)
		conv := fmt.Sprintf("c-b11-%02d", i)
		at := day(9, 30).Add(time.Duration(i*50+g.rng.IntN(40)) * time.Second)
		g.send(conv, c, []string{agent}, at, false, g.pick([]string{"my order hasn't arrived", "I need to change my address", "the app keeps crashing", "how do I get a refund?"}))
		g.send(conv, agent, []string{c}, at.Add(time.Duration(30+g.rng.IntN(90))*time.Second), false,
			fmt.Sprintf("Thanks for reaching out! Your ticket number is %d and our team will reply within 24 hours.", 50000+g.rng.IntN(9999)))
	}

	g.campaign = "benign/party-invitations"
	host := g.account("b12-host", 900*24*time.Hour)
	for i := range 15 {
		f := g.account(fmt.Sprintf("b12-friend%02d", i), 900*24*time.Hour)
		g.befriend("c-b12-"+f, host, f)
		g.send("c-b12-"+f, host, []string{f}, day(10, 0).Add(time.Duration(i*45)*time.Second), false, "party at mine on saturday from 8pm, bring snacks and good music!")
	}

	g.campaign = "benign/marketplace-buyers"
	seller := g.account("b13-seller", 400*24*time.Hour)
	for i := range 30 {
		c := g.account(fmt.Sprintf("b13-buyer%02d", i), 100*24*time.Hour)
		g.send(fmt.Sprintf("c-b13-%02d", i), c, []string{seller}, day(11, 0).Add(time.Duration(g.rng.IntN(3600))*time.Second), false, "Hi, is this still available?")
	}

	g.campaign = "benign/scam-warning"
	warner := g.account("b14-warner", 1500*24*time.Hour)
	for i := range 12 {
		f := g.account(fmt.Sprintf("b14-friend%02d", i), 900*24*time.Hour)
		g.befriend("c-b14-"+f, warner, f)
		g.send("c-b14-"+f, warner, []string{f}, day(12, 0).Add(time.Duration(i*40)*time.Second), false,
			"careful, there's a scam going around saying \"your account will be suspended, verify your account\" with a link. Don't click it!")
	}

	g.campaign = "benign/crypto-talk"
	for i := range 10 {
		a, b := g.account(fmt.Sprintf("b15-a%d", i), 800*24*time.Hour), g.account(fmt.Sprintf("b15-b%d", i), 800*24*time.Hour)
		conv := fmt.Sprintf("c-b15-%d", i)
		g.befriend(conv, a, b)
		at := day(13, 0).Add(time.Duration(g.rng.IntN(3600)) * time.Second)
		g.send(conv, a, []string{b}, at, false, "I bought a bit of bitcoin today, price is up again")
		g.send(conv, b, []string{a}, at.Add(time.Minute), false, "careful, I lost money on crypto last year. only invest what you can lose")
	}

	g.campaign = "benign/official-links"
	for i := range 10 {
		a, b := g.account(fmt.Sprintf("b16-kid%d", i), 300*24*time.Hour), g.account(fmt.Sprintf("b16-parent%d", i), 2000*24*time.Hour)
		conv := fmt.Sprintf("c-b16-%d", i)
		g.befriend(conv, a, b)
		at := day(13, 30).Add(time.Duration(g.rng.IntN(1800)) * time.Second)
		g.send(conv, a, []string{b}, at, false, "I can't log in to my account, the code isn't arriving")
		g.send(conv, b, []string{a}, at.Add(2*time.Minute), false, "reset your password at https://accounts.google.com/signin/recovery and use the code they send, don't give it to anyone")
	}

	g.campaign = "benign/group-chat-burst"
	group := strangers("b17-member", 8)
	for _, m := range group {
		g.account(m, 700*24*time.Hour)
	}
	at = day(14, 0)
	for i := range 40 {
		from := group[g.rng.IntN(len(group))]
		var to []string
		for _, m := range group {
			if m != from {
				to = append(to, m)
			}
		}
		if i == 0 {
			g.send("c-b17-group", from, to, at.Add(-24*time.Hour), false, "group chat for the trip!")
		}
		g.send("c-b17-group", from, to, at, false, g.pick([]string{"who's driving?", "me!", "I can take 3", "what time?", "9am at the station", "lol", "ok", "bring snacks", "is it going to rain?", "👍"}))
		at = at.Add(time.Duration(1+g.rng.IntN(5)) * time.Second)
	}

	g.campaign = "benign/new-clan-member"
	n = g.account("b18-newbie", 10*time.Hour)
	for i, m := range strangers("b18-clan", 6) {
		g.send("c-b18-"+m, n, []string{m}, day(15, 0).Add(time.Duration(i*2)*time.Minute), false, "hi, I'm new to the clan, add me in game so we can play tonight")
	}

	g.campaign = "benign/long-paste"
	a, b = g.account("b19-a", 900*24*time.Hour), g.account("b19-b", 900*24*time.Hour)
	g.befriend("c-b19", a, b)
	for i, part := range []string{
		"ok here is the whole thing she wrote, part 1: we have been planning this reunion for almost a year now and honestly it has been a lot of work, between the venue, the catering, the music and trying to find everyone's current address it took most of our weekends",
		"part 2: the venue is booked for the last saturday of june, we have the room from 6pm until midnight, catering is sorted and the band confirmed yesterday, so the only thing left is the guest list and the money for the deposit which is due next week",
		"part 3: if you can collect from your side of the family that would be great, it is 40 each and we need it by friday, let me know if anyone can't make it so we can tell the caterers, and thanks again for helping with all of this, it means a lot",
	} {
		g.send("c-b19", a, []string{b}, day(16, 0).Add(time.Duration(i*4)*time.Second), false, part)
	}

	g.campaign = "benign/recruiter"
	rec := g.account("b20-recruiter", 6*365*24*time.Hour)
	for i, c := range strangers("b20-candidate", 15) {
		g.send("c-b20-"+c, rec, []string{c}, day(16, 30).Add(time.Duration(i*3)*time.Minute), false,
			fmt.Sprintf("Hi %s, we're hiring a backend engineer for our payments team and your profile looks like a great fit. Would you be open to a short chat this week?", name()))
	}

	g.campaign = "benign/parents-group"
	parents := strangers("b21-parent", 10)
	for _, p := range parents {
		g.account(p, 1200*24*time.Hour)
	}
	g.send("c-b21-parents", parents[1], parents[2:], day(17, 0).Add(-48*time.Hour), false, "welcome to the class 4B parents group")
	for i, line := range []string{
		"Reminder: school photos are on Monday, order form here https://www.example-school.org/photos",
		"Also the bake sale is on Wednesday, sign up here https://www.example-school.org/bakesale",
		"And the lost property box is full, please check it: https://www.example-school.org/lost-property",
		"Last one: parents evening booking opens tomorrow https://www.example-school.org/parents-evening",
		"thanks all!",
	} {
		g.send("c-b21-parents", parents[0], parents[1:], day(17, 0).Add(time.Duration(i*20)*time.Second), false, line)
	}

	g.campaign = "benign/news-link-to-friends"
	sharer := g.account("b22-sharer", 2000*24*time.Hour)
	for i := range 12 {
		f := g.account(fmt.Sprintf("b22-friend%02d", i), 900*24*time.Hour)
		g.befriend("c-b22-"+f, sharer, f)
		g.send("c-b22-"+f, sharer, []string{f}, day(17, 30).Add(time.Duration(i*50)*time.Second), false, "interesting article https://www.bbc.co.uk/news/science-12345678")
	}

	g.campaign = "benign/new-account-invites-friends"
	n = g.account("b23-newshop", 5*time.Hour)
	for i, f := range strangers("b23-friend", 4) {
		g.send("c-b23-"+f, n, []string{f}, day(18, 0).Add(time.Duration(i*4)*time.Minute), false, "hi! it's Dana, I finally opened my little pottery shop, have a look: https://www.danas-pottery.example.com")
	}

	g.campaign = "benign/scam-words-in-chat"
	for i, pair := range [][2]string{
		{"congratulations you won the office bake off!! claim your prize at the front desk", "haha thanks, the cake was a team effort"},
		{"did you buy gift cards for grandma? send me the codes and I'll write them in the card", "yes, sending now"},
		{"my account has been locked again, I forgot my password", "reset it from the app, it sends a code"},
		{"you have won the argument, fine, we get pizza", "told you"},
		{"she said 'add me on telegram for crypto profits' and I blocked her", "lol good"},
		{"I need money for the flight home, can you lend me 50 until friday?", "sure, sending it now"},
	} {
		a, b := g.account(fmt.Sprintf("b24-a%d", i), 900*24*time.Hour), g.account(fmt.Sprintf("b24-b%d", i), 900*24*time.Hour)
		conv := fmt.Sprintf("c-b24-%d", i)
		g.befriend(conv, a, b)
		at := day(18, 30).Add(time.Duration(i*5) * time.Minute)
		g.send(conv, a, []string{b}, at, false, pair[0])
		g.send(conv, b, []string{a}, at.Add(time.Minute), false, pair[1])
	}

	g.campaign = "benign/background-chat"
	for i := range 150 {
		a, b := g.account(fmt.Sprintf("bg-a%03d", i), time.Duration(100+g.rng.IntN(2000))*24*time.Hour), g.account(fmt.Sprintf("bg-b%03d", i), time.Duration(100+g.rng.IntN(2000))*24*time.Hour)
		conv := fmt.Sprintf("c-bg-%03d", i)
		g.befriend(conv, a, b)
		at := corpusStart.Add(time.Duration(g.rng.IntN(18*3600)) * time.Second)
		for j := range 2 + g.rng.IntN(6) {
			from, to := a, b
			if j%2 == 1 {
				from, to = b, a
			}
			text := g.pick(smallTalk)
			if g.rng.IntN(10) == 0 {
				text = g.pick([]string{"have you seen this? https://www.youtube.com/watch?v=dQw4w9WgXcQ", "tickets are here https://www.eventbrite.com/e/123456", "menu: https://www.pizza-place.example.com/menu"})
			}
			g.send(conv, from, []string{to}, at, false, text)
			at = at.Add(time.Duration(20+g.rng.IntN(600)) * time.Second)
		}
	}

	// In sent_at order, as a replay reads them.
	idx := make([]int, len(g.lines))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int { return g.at[i].Compare(g.at[j]) })
	out := make([]corpusLine, len(idx))
	for k, i := range idx {
		out[k] = g.lines[i]
	}
	return out
}

func encodeCorpus(lines []corpusLine) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			panic(err)
		}
	}
	return b.Bytes()
}

func TestCorpusFileIsUpToDate(t *testing.T) {
	want := encodeCorpus(buildCorpus())
	if *update {
		if err := os.WriteFile(corpusFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(corpusFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the campaign scripts; run go test ./detectors/spam -run CorpusFileIsUpToDate -update", corpusFile)
	}
}
