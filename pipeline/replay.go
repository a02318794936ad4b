package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

// ReplayInput is one named stream of JSON lines.
type ReplayInput struct {
	Name string
	R    io.Reader
}

// Rejection is a line replay skipped.
type Rejection struct {
	Input  string
	Line   int
	Reason event.Reason
	Detail string
}

// ReplaySummary is what replay reports after the flags.
type ReplaySummary struct {
	Messages   int
	Flags      int
	ByCategory map[detectors.Category]int
	BySeverity map[detectors.Severity]int
	ByDetector map[string]int
	Rejected   []Rejection
}

// Replay reads message events as JSON lines, in input order, runs them
// through one engine built from factories and rules (the same detectors,
// code and per-conversation state as the streaming pipeline), and writes
// each flag as one JSON line to out. Bad lines are skipped and listed in the
// summary. With detectors.EventTime as the engine clock the output is
// reproducible.
func Replay(ctx context.Context, inputs []ReplayInput, factories []detectors.Factory, rules *detectors.RuleSet, opts detectors.EngineOptions, out io.Writer) (ReplaySummary, error) {
	sum := ReplaySummary{ByCategory: map[detectors.Category]int{}, BySeverity: map[detectors.Severity]int{}, ByDetector: map[string]int{}}
	det, err := newDetection(factories, rules, opts)
	if err != nil {
		return sum, fmt.Errorf("replay: %w", err)
	}
	w := bufio.NewWriterSize(out, 64<<10)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	var flags []detectors.Flag
	err = ScanEvents(ctx, inputs, func(msg *event.Message) error {
		sum.Messages++
		var err error
		if flags, err = det.inspect(msg, flags[:0]); err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		for i := range flags {
			sum.Flags++
			sum.ByCategory[flags[i].Category]++
			sum.BySeverity[flags[i].Severity]++
			sum.ByDetector[flags[i].Detector]++
			if err := enc.Encode(&flags[i]); err != nil {
				return fmt.Errorf("replay: write flags: %w", err)
			}
		}
		return nil
	}, func(r Rejection) { sum.Rejected = append(sum.Rejected, r) })
	if err != nil {
		return sum, err
	}
	if err := w.Flush(); err != nil {
		return sum, fmt.Errorf("replay: write flags: %w", err)
	}
	return sum, nil
}

// ScanEvents decodes every line of the inputs, in order, calling onEvent for
// each valid event and onReject for each bad line. Blank lines are skipped.
// It stops at the first error onEvent returns.
func ScanEvents(ctx context.Context, inputs []ReplayInput, onEvent func(*event.Message) error, onReject func(Rejection)) error {
	for _, in := range inputs {
		r := bufio.NewReaderSize(in.R, 64<<10)
		for line := 1; ; line++ {
			if line%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			data, tooLong, err := readLine(r, event.MaxEventBytes)
			if err != nil && err != io.EOF {
				return fmt.Errorf("read %s: %w", in.Name, err)
			}
			switch {
			case tooLong:
				onReject(Rejection{in.Name, line, event.ReasonTooLarge, fmt.Sprintf("line longer than %d bytes", event.MaxEventBytes)})
			case len(bytes.TrimSpace(data)) == 0:
				// blank lines separate nothing; they are not events
			default:
				msg, derr := event.Decode(data)
				if derr != nil {
					onReject(Rejection{in.Name, line, event.ReasonOf(derr), derr.Error()})
				} else if err := onEvent(msg); err != nil {
					return err
				}
			}
			if err == io.EOF {
				break
			}
		}
	}
	return nil
}

// readLine returns the next line without its newline. A line longer than
// limit is consumed and reported as tooLong, without holding it in memory.
func readLine(r *bufio.Reader, limit int) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if buf == nil && !tooLong && err != bufio.ErrBufferFull {
			return trimNewline(chunk), false, err // the common case: no copy
		}
		if len(buf)+len(chunk) > limit+1 {
			tooLong = true
			buf = buf[:0]
		} else if !tooLong {
			buf = append(buf, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		buf = trimNewline(buf)
		return buf, tooLong, err
	}
}

func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// WriteSummary prints the summary in a stable, human-readable form.
func (s ReplaySummary) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "messages: %d\nflags: %d\n", s.Messages, s.Flags)
	cats := make([]string, 0, len(s.ByCategory))
	for c := range s.ByCategory {
		cats = append(cats, string(c))
	}
	sort.Strings(cats)
	for _, c := range cats {
		fmt.Fprintf(w, "  %s: %d\n", c, s.ByCategory[detectors.Category(c)])
	}
	for _, sev := range detectors.Severities {
		if n := s.BySeverity[sev]; n > 0 {
			fmt.Fprintf(w, "  severity %s: %d\n", sev, n)
		}
	}
	fmt.Fprintf(w, "rejected: %d\n", len(s.Rejected))
	for _, r := range s.Rejected {
		fmt.Fprintf(w, "  %s:%d: %s\n", r.Input, r.Line, r.Detail)
	}
}
