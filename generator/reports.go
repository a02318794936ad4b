package generator

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/goshawk-safety/goshawk/event"
)

// endedKept bounds how many finished conversations stay reportable.
const endedKept = 256

// remember keeps a finished conversation, so that a report may still come
// in about it.
func (g *Generator) remember(c *conversation) {
	if len(g.ended) == endedKept {
		copy(g.ended, g.ended[1:])
		g.ended = g.ended[:endedKept-1]
	}
	g.ended = append(g.ended, c)
}

// reporter draws reports with its own random source, so that asking for
// reports never changes the messages a Generator produces.
type reporter struct {
	rng  *rand.Rand
	next int
}

// Report returns a user report (event.Report v1, keyed by conversation_id)
// about a conversation that has already sent messages: most reports are
// about harmful conversations, made by the person on the receiving end,
// with the reason that fits and often a comment; some are about benign
// conversations (mistaken or malicious reports). Event.Label is the
// reported conversation's label, Event.Harmful whether it is harmful, and
// Event.Time the report's reported_at, a little after the conversation's
// latest message. With Options.BadRatio, that share of reports is
// deliberately invalid, with Bad, BadKind and Reason set as for messages.
//
// Reports come from a random source of their own: the messages of a
// Generator are the same whether or not Report is called between them, and
// the same seed and the same sequence of calls give the same bytes.
func (g *Generator) Report() Event {
	if g.reports == nil {
		seed, _ := strconv.ParseInt(g.seedTag, 10, 64) // seedTag is the decimal seed
		g.reports = &reporter{rng: rand.New(rand.NewPCG(uint64(seed), 0x5deece66d))}
	}
	rr := g.reports
	rr.next++
	c := g.reportable(rr.rng)
	from, msg := g.reportOn(rr.rng, c)
	reporter := c.members[from]
	reason := reportReason(rr.rng, c.label)
	at := c.due
	if c.next < len(c.lines) {
		at = g.now // still talking: the report comes in now
	}
	at = at.Add(time.Duration(1+rr.rng.IntN(600)) * time.Second).UTC().Truncate(time.Millisecond)
	fields := map[string]any{
		"report_id":       "r" + g.seedTag + "-" + strconv.Itoa(rr.next),
		"reporter_id":     reporter.id,
		"conversation_id": c.id,
		"reason":          string(reason),
		"reported_at":     at.Format(timeLayout),
	}
	if msg != "" {
		fields["message_id"] = msg
	}
	if reporter.age >= 0 {
		fields["reporter_age"] = reporter.age
	}
	if rr.rng.Float64() < 0.6 {
		pool := reportComments[reason]
		fields["comment"] = pool[rr.rng.IntN(len(pool))]
	}
	ev := Event{Key: []byte(c.id), Time: at, Label: c.label, Harmful: c.label != LabelBenign}
	if g.opts.BadRatio > 0 && rr.rng.Float64() < g.opts.BadRatio {
		k := badReportKinds[rr.rng.IntN(len(badReportKinds))]
		ev.Value = k.damage(rr.rng, fields)
		ev.Label, ev.Harmful, ev.Bad, ev.BadKind, ev.Reason = LabelBad, false, true, k.kind, k.reason
		return ev
	}
	ev.Value = marshalReport(fields)
	return ev
}

// reportable picks the conversation to report: one in flight that has sent
// a message, or one that ended recently. Three reports in four are about a
// harmful conversation, when there is one.
func (g *Generator) reportable(rng *rand.Rand) *conversation {
	var harmful, benign []*conversation
	add := func(c *conversation) {
		if c.next == 0 {
			return
		}
		if c.label == LabelBenign {
			benign = append(benign, c)
		} else {
			harmful = append(harmful, c)
		}
	}
	for _, c := range g.active {
		add(c)
	}
	for _, c := range g.ended {
		add(c)
	}
	switch {
	case len(harmful) > 0 && (len(benign) == 0 || rng.Float64() < 0.75):
		return harmful[rng.IntN(len(harmful))]
	case len(benign) > 0:
		return benign[rng.IntN(len(benign))]
	}
	// Nothing has been sent yet: report the first conversation due.
	return g.active[0]
}

// reportOn picks the reporter (a member other than the harmful one, who is
// member 0 in every harmful script) and, often, the message reported: a
// harmful line already sent.
func (g *Generator) reportOn(rng *rand.Rand, c *conversation) (from int, messageID string) {
	from = rng.IntN(len(c.members))
	if c.label != LabelBenign && len(c.members) > 1 {
		from = 1 + rng.IntN(len(c.members)-1)
	}
	var sent []int
	for i := 0; i < c.next && i < len(c.lines); i++ {
		if c.lines[i].harmful || c.label == LabelBenign && c.lines[i].from != from {
			sent = append(sent, i)
		}
	}
	if len(sent) > 0 && rng.Float64() < 0.7 {
		i := sent[rng.IntN(len(sent))]
		messageID = c.id + "-m" + strconv.Itoa(i+1)
	}
	return from, messageID
}

// reportReason is the reason a reporter gives for a conversation of label.
func reportReason(rng *rand.Rand, label Label) event.ReportReason {
	r := rng.Float64()
	switch label {
	case LabelGrooming:
		if r < 0.85 {
			return event.ReportGrooming
		}
		return event.ReportOther
	case LabelHarassment:
		switch {
		case r < 0.8:
			return event.ReportHarassment
		case r < 0.9:
			return event.ReportSelfHarm
		}
		return event.ReportOther
	case LabelSpam:
		if r < 0.9 {
			return event.ReportSpam
		}
		return event.ReportOther
	}
	switch {
	case r < 0.5:
		return event.ReportOther
	case r < 0.8:
		return event.ReportHarassment
	}
	return event.ReportSpam
}

// reportComments are what reporters write, by reason: the reporter's own
// account, at the level of behaviour.
var reportComments = map[event.ReportReason][]string{
	event.ReportGrooming: {
		"an adult I don't know keeps asking me to keep our chats secret",
		"he asked how old I am and if my parents check my phone",
		"they want me to move to another app and meet up without telling anyone",
		"keeps offering me gift cards and asking for pictures",
	},
	event.ReportHarassment: {
		"they keep insulting me and won't stop messaging",
		"this person threatened me after school",
		"getting called names every day in this chat",
	},
	event.ReportSelfHarm: {
		"they told me to hurt myself",
		"someone in this chat keeps telling me nobody would miss me",
	},
	event.ReportSpam: {
		"sending links asking for my login details",
		"stranger keeps messaging about crypto returns",
	},
	event.ReportOther: {
		"this makes me uncomfortable",
		"not sure what this is but it felt wrong",
		"",
	},
}

// marshalReport encodes fields as one JSON object (keys in sorted order, so
// the bytes are deterministic).
func marshalReport(fields map[string]any) []byte {
	b, err := json.Marshal(fields)
	if err != nil {
		panic("generator: report fields do not encode: " + err.Error()) // only strings and ints
	}
	return b
}

// badReportKind is one kind of deliberately invalid report.
type badReportKind struct {
	kind   string
	reason event.Reason
	damage func(rng *rand.Rand, fields map[string]any) []byte
}

var badReportKinds = []badReportKind{
	{"invalid_json", event.ReasonInvalidJSON, func(_ *rand.Rand, f map[string]any) []byte {
		b := marshalReport(f)
		return b[:len(b)-1] // the closing brace is missing
	}},
	{"missing_field", event.ReasonMissingField, func(rng *rand.Rand, f map[string]any) []byte {
		required := []string{"report_id", "reporter_id", "conversation_id", "reason", "reported_at"}
		delete(f, required[rng.IntN(len(required))])
		f["trace_id"] = f["report_id"]
		return marshalReport(f)
	}},
	{"unknown_reason", event.ReasonInvalidValue, func(rng *rand.Rand, f map[string]any) []byte {
		f["reason"] = []string{"rude", "Grooming", "scam", ""}[rng.IntN(4)]
		return marshalReport(f)
	}},
	{"comment_too_long", event.ReasonTooLong, func(_ *rand.Rand, f map[string]any) []byte {
		f["comment"] = strings.Repeat("please look at this conversation. ", event.MaxCommentBytes/33+2)
		return marshalReport(f)
	}},
	{"wrong_type", event.ReasonWrongType, func(_ *rand.Rand, f map[string]any) []byte {
		f["reporter_age"] = "fifteen"
		return marshalReport(f)
	}},
	{"empty", event.ReasonEmpty, func(*rand.Rand, map[string]any) []byte { return nil }},
}

// BadReportKinds lists the kinds of invalid report Report makes.
func BadReportKinds() []string {
	out := make([]string, len(badReportKinds))
	for i, k := range badReportKinds {
		out[i] = k.kind
	}
	return out
}
