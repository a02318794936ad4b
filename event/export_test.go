package event

import (
	"fmt"
	"reflect"
	"unicode/utf8"
)

// CompareFastWithJSON decodes data with decodeFast and, when it accepts,
// with encoding/json too, and describes any difference between the two
// wires or between the messages (or errors) they validate to. fast reports
// whether decodeFast accepted data.
func CompareFastWithJSON(data []byte) (fast bool, diff string) {
	if !utf8.Valid(data) {
		return false, "" // Decode rejects it before either path
	}
	fw, ok := decodeFast(data)
	if !ok {
		return false, ""
	}
	sw, err := decodeJSON(data)
	if err != nil {
		return true, fmt.Sprintf("decodeFast accepted what encoding/json rejects: %v", err)
	}
	if !reflect.DeepEqual(fw, sw) {
		return true, fmt.Sprintf("wires differ:\nfast %s\njson %s", dumpWire(fw), dumpWire(sw))
	}
	fm, ferr := fw.message()
	sm, serr := sw.message()
	if fmt.Sprint(ferr) != fmt.Sprint(serr) || !reflect.DeepEqual(fm, sm) {
		return true, fmt.Sprintf("messages differ: fast %+v (%v), json %+v (%v)", fm, ferr, sm, serr)
	}
	return true, ""
}

// DecodeJSONOnly is Decode without the fast path, for benchmarks.
func DecodeJSONOnly(data []byte) (*Message, error) {
	w, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}
	return w.message()
}

// DecodeCaseInputs are the inputs of the decoder's table test.
func DecodeCaseInputs() []string {
	out := make([]string, len(decodeCases))
	for i, tc := range decodeCases {
		out[i] = tc.input
	}
	return out
}

func dumpWire(w wire) string {
	s := func(p *string) string {
		if p == nil {
			return "nil"
		}
		return fmt.Sprintf("%q", *p)
	}
	n := func(p *int) string {
		if p == nil {
			return "nil"
		}
		return fmt.Sprint(*p)
	}
	out := fmt.Sprintf("{v:%s id:%s conv:%s sent:%s text:%s", n(w.SchemaVersion), s(w.MessageID), s(w.ConversationID), s(w.SentAt), s(w.Text))
	if w.Sender != nil {
		out += fmt.Sprintf(" sender:{%s %s %s}", s(w.Sender.ID), n(w.Sender.Age), s(w.Sender.AccountCreatedAt))
	} else {
		out += " sender:nil"
	}
	if w.Recipients == nil {
		return out + " recipients:nil}"
	}
	out += " recipients:["
	for _, r := range w.Recipients {
		out += fmt.Sprintf("{%s %s}", s(r.ID), n(r.Age))
	}
	return out + "]}"
}
