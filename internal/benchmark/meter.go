package benchmark

import (
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// usage is what one phase cost the process.
type usage struct {
	CPU     time.Duration // user + system CPU time of the whole process
	PeakRSS int64         // bytes; 0 when unknown
	// MachineBusy is the share of the whole machine's CPU time that was
	// busy during the phase, this process and everything else (the
	// brokers, the database, other users): 0–1, or -1 when unknown.
	MachineBusy float64
	Err         error // why CPU or PeakRSS could not be measured
}

// meter measures the CPU time and the peak resident memory of the process
// over one phase. The process must do nothing but the phase meanwhile.
type meter struct {
	cpu0     time.Duration
	resetErr error
	stopPoll chan struct{}
	polled   sync.WaitGroup
	mu       sync.Mutex
	sampled  int64 // highest VmRSS seen by the poller, for when the peak cannot be reset
	cpuErr   error
	busy0    uint64 // machine CPU ticks at the start
	total0   uint64
	machErr  error
}

// startMeter collects garbage and returns freed memory to the system
// first, so that a phase does not pay for the previous one.
func startMeter() *meter {
	runtime.GC()
	debug.FreeOSMemory()
	m := &meter{stopPoll: make(chan struct{})}
	m.resetErr = resetPeakRSS()
	if m.resetErr != nil {
		// Fall back to sampling the resident set size.
		m.polled.Add(1)
		go m.poll()
	}
	m.busy0, m.total0, m.machErr = machineCPU()
	m.cpu0, m.cpuErr = cpuTime()
	return m
}

func (m *meter) poll() {
	defer m.polled.Done()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if rss, err := procStatus("VmRSS:"); err == nil {
			m.mu.Lock()
			m.sampled = max(m.sampled, rss)
			m.mu.Unlock()
		}
		select {
		case <-m.stopPoll:
			return
		case <-t.C:
		}
	}
}

// stop ends the phase.
func (m *meter) stop() usage {
	cpu1, err := cpuTime()
	busy1, total1, machErr := machineCPU()
	close(m.stopPoll)
	m.polled.Wait()
	u := usage{Err: m.cpuErr, MachineBusy: -1}
	if m.machErr == nil && machErr == nil && total1 > m.total0 {
		u.MachineBusy = float64(busy1-m.busy0) / float64(total1-m.total0)
	}
	if err != nil {
		u.Err = err
	}
	if u.Err == nil {
		u.CPU = cpu1 - m.cpu0
	}
	if m.resetErr == nil {
		peak, err := peakRSS()
		if err != nil && u.Err == nil {
			u.Err = err
		}
		u.PeakRSS = peak
	} else {
		m.mu.Lock()
		u.PeakRSS = m.sampled
		m.mu.Unlock()
	}
	return u
}
