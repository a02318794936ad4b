package benchmark

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of a run.
type Report struct {
	Name        string // topic prefix of the run
	Messages    int
	Partitions  int
	Seed        int64
	BadRatio    float64
	CommitEvery int // of the bare consumer
	Env         Environment

	Bare, Run, Replay Phase
	// Decode is encoding/json decoding the replay's file into the event's
	// wire shape on one core, and nothing else: the yardstick of replay.
	Decode      Phase
	Latency     *Latency // nil when skipped
	ReplayFlags int      // flags replay gave, detector stages' apart
	StoredFlags uint64   // flags ClickHouse shows after the run phase, detector stages' apart
	// The flags of detectors with stages (spam), compared apart: while the
	// run phase reads its backlog at full speed, partitions run days apart
	// in event time, beyond the stages' lateness bound.
	ReplayStageFlags int
	StoredStageFlags uint64
	Notes            []string
}

// Problems lists what makes the numbers untrustworthy: the pipeline did
// not store what replay gives, or the latency probe missed flags.
func (r *Report) Problems() []string {
	var out []string
	if r.Replay.Messages > 0 && r.Run.Messages > 0 && uint64(r.ReplayFlags) != r.StoredFlags {
		out = append(out, fmt.Sprintf("replay gives %d flags but ClickHouse shows %d after the run phase", r.ReplayFlags, r.StoredFlags))
	}
	if r.BadRatio == 0 && r.Run.DeadLetters > 0 {
		out = append(out, fmt.Sprintf("the run phase dead-lettered %d records of valid traffic", r.Run.DeadLetters))
	}
	if l := r.Latency; l != nil {
		if r.BadRatio == 0 && l.DeadLetters > 0 {
			out = append(out, fmt.Sprintf("latency: %d records of valid traffic were dead-lettered", l.DeadLetters))
		}
		if l.Unmatched > 0 {
			out = append(out, fmt.Sprintf("latency: %d flags belong to records the probe never saw", l.Unmatched))
		}
		if uint64(l.Flags) != l.Stored {
			out = append(out, fmt.Sprintf("latency: ClickHouse acknowledged %d flags but shows %d", l.Flags, l.Stored))
		}
		if len(l.Samples) == 0 {
			out = append(out, "latency: no flag after the warm-up; produce for longer")
		}
	}
	return out
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of samples by the
// nearest-rank method, or 0 for no samples. samples must be sorted.
func Percentile(samples []time.Duration, p float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(samples))))
	return samples[min(max(rank, 1), len(samples))-1]
}

// Write prints the report: a header with the machine and the software,
// one table with a row per phase, and notes on the method.
func (r *Report) Write(w io.Writer) error {
	e := r.Env
	bw := &errWriter{w: w}
	bw.printf("goshawk bench: %s generated messages (seed %d, %g%% invalid), %d partitions, topic %s\n",
		thousands(r.Messages), r.Seed, r.BadRatio*100, r.Partitions, r.Name)
	machine := fmt.Sprintf("%d logical CPUs (GOMAXPROCS %d)", e.Cores, e.GOMAXPROCS)
	if e.CPUModel != "" {
		machine += ", " + e.CPUModel
	}
	machine += ", " + e.Platform
	if e.LoadStart != "" {
		machine += fmt.Sprintf("; load average %s at the start, %s at the end", e.LoadStart, e.LoadEnd)
	}
	bw.printf("  machine:  %s\n", machine)
	bw.printf("  software: goshawk %s; %s; %s; %s\n\n", e.Goshawk, e.GoVersion, e.Kafka, e.ClickHouse)

	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "phase\tmessages\tseconds\tmsg/s\t× bare\tfrom start s\tCPU s/M msg\tpeak RSS MiB\tmachine busy\tp50 s\tp95 s\tp99 s\tmax s\t")
	row := func(name string, p Phase, fromStart bool) {
		ratio := "-"
		if base := r.Bare.Rate(); base > 0 && p.Rate() > 0 {
			ratio = fmt.Sprintf("%.2f", p.Rate()/base)
		}
		start := "-"
		if fromStart {
			start = fmt.Sprintf("%.2f", p.FromStart.Seconds())
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t-\t-\t-\t-\t\n", name, thousands(p.Messages), p.Elapsed.Seconds(),
			thousands(int(math.Round(p.Rate()))), ratio, start, cpuPerMillion(p.usage, p.Messages), rss(p.usage), busy(p.usage))
	}
	if r.Bare.Messages > 0 {
		row("bare kafka-go consumer", r.Bare, true)
	}
	if r.Run.Messages > 0 {
		row("goshawk run → ClickHouse", r.Run, true)
	}
	if r.Replay.Messages > 0 {
		row("replay, 1 core", r.Replay, false)
	}
	if r.Decode.Messages > 0 {
		row("encoding/json decode only, 1 core", r.Decode, false)
	}
	if l := r.Latency; l != nil {
		s := slices.Clone(l.Samples)
		slices.Sort(s)
		achieved := 0.0
		if l.Producing > 0 {
			achieved = float64(l.Produced) / l.Producing.Seconds()
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%s\t-\t-\t%s*\t%s\t%s\t%.3f\t%.3f\t%.3f\t%.3f\t\n",
			fmt.Sprintf("latency at %s msg/s", thousands(int(l.Rate))), thousands(l.Produced), l.Producing.Seconds(),
			thousands(int(math.Round(achieved))), cpuPerMillion(l.usage, l.Produced), rss(l.usage), busy(l.usage),
			Percentile(s, 50).Seconds(), Percentile(s, 95).Seconds(), Percentile(s, 99).Seconds(), Percentile(s, 100).Seconds())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rr, dr := r.Replay.Rate(), r.Decode.Rate(); rr > 0 && dr > 0 {
		bw.printf("\n  replay / decode only: %.2f (time a message, replay's over decoding's)", dr/rr)
		if br, rn := r.Bare.Rate(), r.Run.Rate(); br > 0 && rn > 0 {
			bw.printf("; run / bare consumer: %.2f (throughput)", rn/br)
		}
		bw.printf("\n")
	}

	bw.printf("\n")
	bw.printf("- seconds: from the first record fetched until the commit of the last record returned; \"from start\" adds\n")
	bw.printf("  creating the consumer and joining the group. bare: pipeline.KafkaSource (the pipeline's kafka-go reader\n")
	bw.printf("  settings), FetchMessage and a synchronous CommitMessages every %s records. run: goshawk run's wiring\n", thousands(r.CommitEvery))
	bw.printf("  and defaults, a fresh group and ClickHouse database. replay: pipeline.Replay with GOMAXPROCS=1, flags\n")
	bw.printf("  encoded and discarded. CPU and peak RSS are the process's own over the phase, which runs alone in it;\n")
	bw.printf("  machine busy is the share of all the machine's CPUs in use meanwhile (Kafka, ClickHouse, everything).\n")
	var cores []string
	for _, ph := range []struct {
		name string
		u    usage
	}{{"bare", r.Bare.usage}, {"run", r.Run.usage}, {"replay", r.Replay.usage}} {
		if line := coresInUse(ph.u, r.Env.Cores); line != "" {
			cores = append(cores, ph.name+": "+line)
		}
	}
	if len(cores) > 0 {
		bw.printf("- CPUs in use on average (of %d): %s.\n", r.Env.Cores, strings.Join(cores, "; "))
	}
	if w := r.Run.Writes; w.Count > 0 {
		bw.printf("- run: %d ClickHouse inserts of %s flags, %.1f ms each on average, %.1f ms the longest.\n",
			w.Count, thousands(w.Flags), ms(w.Total)/float64(w.Count), ms(w.Max))
	}
	if r.Replay.Messages > 0 && r.Run.Messages > 0 {
		verdict := "the same"
		if uint64(r.ReplayFlags) != r.StoredFlags {
			verdict = "DIFFERENT"
		}
		bw.printf("- flags: replay gives %s, ClickHouse shows %s after the run phase (%s); %s records dead-lettered.\n",
			thousands(r.ReplayFlags), thousands(int(r.StoredFlags)), verdict, thousands(int(r.Run.DeadLetters)))
		if r.ReplayStageFlags > 0 || r.StoredStageFlags > 0 {
			bw.printf("  Detector stages (spam): replay %s, ClickHouse %s. The run phase reads a backlog of days of event time in\n",
				thousands(r.ReplayStageFlags), thousands(int(r.StoredStageFlags)))
			bw.printf("  seconds, so partitions drift apart beyond the stages' lateness bound; a live stream stays within it.\n")
		}
	}
	if l := r.Latency; l != nil {
		bw.printf("- latency: %s flags sampled of %s acknowledged (ClickHouse then shows %s; %s records dead-lettered); the first %s\n",
			thousands(len(l.Samples)), thousands(l.Flags), thousands(int(l.Stored)), thousands(int(l.DeadLetters)), l.Warmup)
		bw.printf("  of producing is warm-up")
		bw.printf(" (first record fetched %.2f s after producing began; the backlog drained %.2f s after it stopped).\n",
			l.FirstFetch.Seconds(), l.Drain.Seconds())
		bw.printf("  Per flag: from its Kafka record timestamp (CreateTime, set just before the producer sends the record) to\n")
		bw.printf("  ClickHouse acknowledging the INSERT that carried it (the part is then visible to queries).\n")
		if l.Staged > 0 {
			bw.printf("  %s flags of detector stages (spam) are not sampled: a stage raises them when later records arrive.\n", thousands(l.Staged))
		}
		bw.printf("  * The latency phase's CPU and memory include the producer, which runs in the same process.\n")
	}
	for _, n := range r.Notes {
		bw.printf("- %s\n", n)
	}
	for _, p := range r.Problems() {
		bw.printf("! %s\n", p)
	}
	return bw.err
}

func cpuPerMillion(u usage, messages int) string {
	if u.Err != nil || messages == 0 || u.CPU == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", u.CPU.Seconds()/float64(messages)*1e6)
}

// coresInUse says how many CPUs this process, each local server and the
// rest of the machine kept busy on average over a phase.
func coresInUse(u usage, cores int) string {
	if u.Wall <= 0 || u.Err != nil {
		return ""
	}
	wall := u.Wall.Seconds()
	parts := []string{fmt.Sprintf("goshawk %.2f", u.CPU.Seconds()/wall)}
	used := u.CPU.Seconds()
	for _, s := range u.Servers {
		parts = append(parts, fmt.Sprintf("%s %.2f", s.Name, s.CPU.Seconds()/wall))
		used += s.CPU.Seconds()
	}
	if u.MachineBusy >= 0 {
		rest := u.MachineBusy*float64(cores) - used/wall
		parts = append(parts, fmt.Sprintf("the rest %.2f", max(rest, 0)))
	}
	return strings.Join(parts, ", ")
}

func busy(u usage) string {
	if u.MachineBusy < 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", u.MachineBusy*100)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func rss(u usage) string {
	if u.PeakRSS == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(u.PeakRSS)/(1<<20))
}

// thousands formats n with a comma every three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}
