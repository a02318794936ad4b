package harassment_test

import (
	"testing"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/harassment"
	"github.com/goshawk-safety/goshawk/detectors/keyword"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/generator"
)

// BenchmarkInspect runs the harassment detector with its built-in rules
// over a realistic mix of generated traffic, in order, so that the
// escalation state is exercised too; and the keyword detector (grooming
// and spam lexicon) over the same messages, for comparison:
//
//	go test ./detectors/harassment -run '^$' -bench Inspect -benchmem
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
	for _, f := range []detectors.Factory{harassment.Factory(), keyword.Factory()} {
		b.Run(f.Name, func(b *testing.B) {
			set, err := detectors.LoadRules([]detectors.Factory{f}, nil)
			if err != nil {
				b.Fatal(err)
			}
			d, err := f.New(set.For(f.Name))
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
		})
	}
}
