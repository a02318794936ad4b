package generator

import (
	"container/heap"
	"strconv"
	"strings"
	"time"
)

// user is one member of the population.
type user struct {
	id      string
	age     int // declared age; -1 when not declared
	created time.Time
}

func (u *user) participant(sender bool) participant {
	p := participant{ID: u.id, Age: u.age}
	if sender {
		p.Created = u.created
	}
	return p
}

// populate creates the users: mostly adults, some teenagers, a few who
// never declared an age, and a small set of recently created spam accounts.
func (g *Generator) populate() {
	n := g.opts.Users
	start := g.opts.Start
	for i := range n {
		u := &user{id: "u" + strconv.Itoa(i+1), age: -1}
		switch r := g.rng.Float64(); {
		case r < 0.70:
			switch s := g.rng.Float64(); {
			case s < 0.30:
				u.age = 18 + g.rng.IntN(8)
			case s < 0.70:
				u.age = 26 + g.rng.IntN(15)
			default:
				u.age = 41 + g.rng.IntN(30)
			}
			u.created = start.Add(-g.seconds(30*86400, 6*365*86400))
			g.adults = append(g.adults, u)
		case r < 0.92:
			u.age = 13 + g.rng.IntN(5)
			u.created = start.Add(-g.seconds(7*86400, 3*365*86400))
			g.minors = append(g.minors, u)
		default:
			u.created = start.Add(-g.seconds(30*86400, 6*365*86400))
			g.undeclared = append(g.undeclared, u)
		}
		g.users = append(g.users, u)
	}
	for i := range max(n/50, 5) {
		u := &user{id: "u" + strconv.Itoa(n+i+1), age: -1}
		if g.chance(0.2) {
			u.age = 18 + g.rng.IntN(13)
		}
		u.created = start.Add(-g.seconds(600, 72*3600))
		g.spammers = append(g.spammers, u)
	}
}

// conversation is one scripted conversation in flight.
type conversation struct {
	id      string
	label   Label
	members []*user
	lines   []line
	next    int       // index of the next line to send
	due     time.Time // sent_at of the next line
	order   uint64
}

// line is one scripted message.
type line struct {
	from    int // index into members
	text    string
	harmful bool
	gap     time.Duration // delay after the previous line
}

func (g *Generator) startConversation(due time.Time) {
	c := &conversation{
		id:    "c" + g.seedTag + "-" + strconv.Itoa(g.nextConv+1),
		label: LabelBenign,
		due:   due,
		order: g.order,
	}
	g.nextConv++
	g.order++
	if g.chance(g.opts.HarmfulRatio) {
		switch r := g.rng.Float64(); {
		case r < 0.40:
			c.label = LabelHarassment
		case r < 0.75:
			c.label = LabelSpam
		default:
			c.label = LabelGrooming
		}
	}
	switch c.label {
	case LabelHarassment:
		g.scriptHarassment(c)
	case LabelSpam:
		g.scriptSpam(c)
	case LabelGrooming:
		g.scriptGrooming(c)
	default:
		g.scriptBenign(c)
	}
	heap.Push(&g.active, c)
}

func (g *Generator) adult() *user  { return g.adults[g.rng.IntN(len(g.adults))] }
func (g *Generator) minor() *user  { return g.minors[g.rng.IntN(len(g.minors))] }
func (g *Generator) anyone() *user { return g.users[g.rng.IntN(len(g.users))] }

// distinct returns n different users drawn by draw (falling back to anyone
// when draw keeps repeating itself).
func (g *Generator) distinct(n int, draw func() *user) []*user {
	out := make([]*user, 0, n)
	for tries := 0; len(out) < n; tries++ {
		u := draw()
		if tries > 20 {
			u = g.anyone()
		}
		dup := false
		for _, v := range out {
			dup = dup || v == u
		}
		if !dup {
			out = append(out, u)
		}
	}
	return out
}

// replyGap is the everyday delay before a reply: usually seconds, sometimes
// a minute or two, now and then a long pause.
func (g *Generator) replyGap() time.Duration {
	switch r := g.rng.Float64(); {
	case r < 0.60:
		return g.millis(1500, 20_000)
	case r < 0.96:
		return g.millis(20_000, 90_000)
	default:
		return g.millis(3*60_000, 20*60_000)
	}
}

func (c *conversation) add(from int, text string, harmful bool, gap time.Duration) {
	if len(c.lines) == 0 {
		gap = 0 // the first line is sent when the conversation is due
	}
	c.lines = append(c.lines, line{from: from, text: text, harmful: harmful, gap: gap})
}

// scriptBenign writes everyday chat: one topic suited to who is talking,
// with reactions, the odd tricky or non-English text, and now and then a
// long message.
func (g *Generator) scriptBenign(c *conversation) {
	var topics [][]string
	switch r := g.rng.Float64(); {
	case r < 0.30: // teenagers
		c.members = g.distinct(2, g.minor)
		topics = [][]string{schoolLines, gameLines, plansLines, jokeLines}
	case r < 0.65: // adults
		c.members = g.distinct(2, g.adult)
		topics = [][]string{workLines, plansLines, jokeLines, friendAdultLines}
	case r < 0.77: // parent and child: benign adult–minor contact
		g.scriptFamily(c)
		return
	case r < 0.92: // group chat
		draw := g.minor
		topics = [][]string{schoolLines, gameLines, plansLines, jokeLines}
		if g.chance(0.5) {
			draw = g.adult
			topics = [][]string{workLines, plansLines, jokeLines, friendAdultLines}
		}
		c.members = g.distinct(3+g.rng.IntN(4), draw)
	default:
		c.members = g.distinct(2, g.anyone)
		topics = [][]string{gameLines, plansLines, jokeLines}
	}
	topic := topics[g.rng.IntN(len(topics))]
	n := 4 + g.rng.IntN(10)
	if g.chance(0.25) {
		n += 10 + g.rng.IntN(20)
	}
	from := g.rng.IntN(len(c.members))
	for range n {
		var text string
		switch r := g.rng.Float64(); {
		case r < 0.58:
			text = g.fill(g.pick(topic))
		case r < 0.79:
			text = g.pick(reactions)
		case r < 0.84:
			text = g.fill(g.pick(trickyLines))
		case r < 0.87:
			text = g.pick(foreignLines)
		case r < 0.97:
			text = g.fill(g.pick(topics[g.rng.IntN(len(topics))]))
		default:
			text = g.longText(topic)
		}
		c.add(from, text, false, g.replyGap())
		if g.chance(0.75) { // usually the other side (or someone else) answers
			from = g.other(c, from)
		}
	}
}

// longText joins several lines of a topic into one long message.
func (g *Generator) longText(topic []string) string {
	var b strings.Builder
	for i := range 4 + g.rng.IntN(6) {
		s := g.fill(g.pick(topic))
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
		if c := s[len(s)-1]; c != '?' && c != '!' && c != '.' {
			b.WriteByte('.')
		}
	}
	return b.String()
}

// scriptFamily writes a parent (35 or older) and their child.
func (g *Generator) scriptFamily(c *conversation) {
	parent := g.adult()
	for tries := 0; parent.age < 35 && tries < 20; tries++ {
		parent = g.adult()
	}
	c.members = []*user{parent, g.minor()}
	pools := [2][]string{parentLines, childLines}
	from := g.rng.IntN(2)
	for range 3 + g.rng.IntN(10) {
		text := g.fill(g.pick(pools[from]))
		if g.chance(0.15) {
			text = g.pick(reactions)
		}
		c.add(from, text, false, g.replyGap())
		if g.chance(0.8) {
			from = 1 - from
		}
	}
}

// other returns a member other than from.
func (g *Generator) other(c *conversation, from int) int {
	if len(c.members) == 2 {
		return 1 - from
	}
	o := g.rng.IntN(len(c.members) - 1)
	if o >= from {
		o++
	}
	return o
}

// scriptHarassment writes one person attacking another in bursts, with the
// target sometimes answering. Member 0 is the aggressor.
func (g *Generator) scriptHarassment(c *conversation) {
	if g.chance(0.6) {
		c.members = g.distinct(2, g.minor)
	} else {
		c.members = g.distinct(2, g.anyone)
	}
	for range g.rng.IntN(3) {
		c.add(0, g.pick(harassOpeners), false, g.replyGap())
	}
	for range 2 + g.rng.IntN(5) {
		gap := g.millis(5_000, 60_000)
		if g.chance(0.3) {
			gap = g.millis(2*60_000, 20*60_000)
		}
		for range 1 + g.rng.IntN(3) { // a burst
			c.add(0, g.fill(g.pick(harassLines)), true, gap)
			gap = g.millis(3_000, 40_000)
		}
		if g.chance(0.6) {
			c.add(1, g.pick(victimLines), false, g.millis(10_000, 60_000))
		}
	}
}

// scriptSpam writes a spam account messaging one person, or many at once.
// Member 0 is the spammer.
func (g *Generator) scriptSpam(c *conversation) {
	spammer := g.spammers[g.rng.IntN(len(g.spammers))]
	n := 1
	if g.chance(0.2) {
		n = 2 + g.rng.IntN(19)
	}
	c.members = append([]*user{spammer}, g.distinct(n, g.anyone)...)
	for range 1 + g.rng.IntN(3) {
		c.add(0, g.fill(g.pick(spamLines)), true, g.millis(30_000, 10*60_000))
		if n == 1 && g.chance(0.4) {
			c.add(1, g.pick(spamReplies), false, g.millis(5_000, 5*60_000))
		}
	}
}

// scriptGrooming writes an adult approaching a minor (13–15): small talk to
// build rapport, then, in order, some of flattery, questions about age and
// supervision, secrecy, moving to another app, gifts, photo requests and
// meeting proposals, with the minor's everyday replies. Member 0 is the
// adult, who sometimes declares no age.
func (g *Generator) scriptGrooming(c *conversation) {
	adult := g.adult()
	if g.chance(0.25) && len(g.undeclared) > 0 {
		adult = g.undeclared[g.rng.IntN(len(g.undeclared))]
	}
	victim := g.minor()
	for tries := 0; victim.age > 15 && tries < 20; tries++ {
		victim = g.minor()
	}
	c.members = []*user{adult, victim}
	gap := func() time.Duration {
		if g.chance(0.1) {
			return g.millis(30*60_000, 6*3600_000) // they talk again later
		}
		return g.millis(8_000, 180_000)
	}
	chat := func(pool []string, harmful bool) {
		c.add(0, g.fill(g.pick(pool)), harmful, gap())
		if g.chance(0.7) {
			c.add(1, g.pick(minorReplies), false, gap())
		}
	}
	for range 2 + g.rng.IntN(3) {
		chat(groomRapport, false)
	}
	for _, stage := range [][]string{groomFlattery, groomProbe, groomSecrecy, groomPlatform, groomGifts, groomPhoto, groomMeet} {
		if !g.chance(0.75) {
			continue
		}
		for range 1 + g.rng.IntN(2) {
			chat(stage, true)
		}
		if g.chance(0.3) {
			chat(groomRapport, false)
		}
	}
}

// fill replaces the {slots} of a template.
func (g *Generator) fill(tpl string) string {
	i := strings.IndexByte(tpl, '{')
	if i < 0 {
		return tpl
	}
	var b strings.Builder
	for i >= 0 {
		j := strings.IndexByte(tpl[i:], '}')
		if j < 0 {
			break
		}
		b.WriteString(tpl[:i])
		b.WriteString(g.slot(tpl[i+1 : i+j]))
		tpl = tpl[i+j+1:]
		i = strings.IndexByte(tpl, '{')
	}
	b.WriteString(tpl)
	return b.String()
}

// slot returns a random value for a template slot; an unknown slot is
// written back as is, which the corpus test catches.
func (g *Generator) slot(name string) string {
	switch name {
	case "name":
		return g.pick(names)
	case "place":
		return g.pick(places)
	case "time":
		return g.pick(times)
	case "day":
		return g.pick(days)
	case "game":
		return g.pick(games)
	case "subject":
		return g.pick(subjects)
	case "teacher":
		return g.pick(teachers)
	case "food":
		return g.pick(foods)
	case "shows":
		return g.pick(shows)
	case "handle":
		return g.pick(handleA) + "_" + g.pick(handleB) + strconv.Itoa(g.rng.IntN(100))
	case "url":
		const alnum = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
		code := make([]byte, 6)
		for i := range code {
			code[i] = alnum[g.rng.IntN(len(alnum))]
		}
		u := g.pick(domains) + "/" + string(code)
		if g.chance(0.3) {
			u = "https://" + u
		}
		return u
	case "amount":
		return g.pick(amounts)
	case "coin":
		return g.pick(coins)
	case "brand":
		return g.pick(brands)
	}
	return "{" + name + "}"
}
