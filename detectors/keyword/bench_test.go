package keyword_test

import (
	"testing"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/keyword"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/generator"
)

// BenchmarkInspect runs the detector with its built-in rules over a
// realistic mix of generated traffic, in order, so that the escalation state
// is exercised too.
func BenchmarkInspect(b *testing.B) {
	g := generator.New(1, generator.Options{})
	msgs := make([]*event.Message, 10_000)
	textBytes := 0
	for i := range msgs {
		m, err := event.Decode(g.Next().Value)
		if err != nil {
			b.Fatal(err)
		}
		msgs[i] = m
		textBytes += len(m.Text)
	}
	set, err := detectors.LoadRules([]detectors.Factory{keyword.Factory()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	d, err := keyword.New(set.For(keyword.Name))
	if err != nil {
		b.Fatal(err)
	}
	var out []detectors.Finding
	b.SetBytes(int64(textBytes / len(msgs)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		out = d.Inspect(msgs[i%len(msgs)], out[:0])
		i++
	}
}
