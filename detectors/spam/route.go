package spam

import (
	"fmt"

	"github.com/goshawk-safety/goshawk/detectors"
)

// Route delivers forwards in process: each to the stage of its stream,
// breadth first, and the stages' own forwards after them (collected right
// after each Handle), until none is left. It returns every flag the stages
// raised, in the order they raised them, with DetectedAt left zero for the
// caller to stamp. The order is deterministic: the same forwards give the
// same flags.
//
// It is what this package's tests use instead of the internal topics
// (pipeline.Router does the same for replay and backtest). A forward for a stream with no stage in stages is an error, and
// so is a stage's error; flags raised before it are returned with it.
func Route(engineForwards []detectors.Forward, stages map[string]detectors.Stage) ([]detectors.Flag, error) {
	queue := make([]detectors.Forward, 0, 2*len(engineForwards))
	queue = append(queue, engineForwards...)
	var flags []detectors.Flag
	for i := 0; i < len(queue); i++ {
		f := queue[i]
		st, ok := stages[f.Stream]
		if !ok {
			return flags, fmt.Errorf("route: no stage for stream %q", f.Stream)
		}
		var err error
		if flags, err = st.Handle(f.Key, f.Value, flags); err != nil {
			return flags, fmt.Errorf("route: stream %s: %w", f.Stream, err)
		}
		if fw, ok := st.(detectors.Forwarder); ok {
			queue = fw.TakeForwards(queue)
		}
	}
	return flags, nil
}
