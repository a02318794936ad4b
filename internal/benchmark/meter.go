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
	Wall        time.Duration // how long the meter ran
	Servers     []ServerCPU   // CPU time of the local Kafka and ClickHouse servers
	Err         error         // why CPU or PeakRSS could not be measured
}

// server is a local process whose CPU time a meter also takes.
type server struct {
	name string
	pid  int
}

// ServerCPU is the CPU time a local server process used during a phase.
type ServerCPU struct {
	Name string
	CPU  time.Duration
}

// meter measures the CPU time and the peak resident memory of the process
// over one phase. The process must do nothing but the phase meanwhile.
type meter struct {
	start    time.Time
	servers  []server
	server0  []time.Duration // CPU time of each server at the start, -1 if unknown
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
func startMeter(servers ...server) *meter {
	runtime.GC()
	debug.FreeOSMemory()
	m := &meter{stopPoll: make(chan struct{}), servers: servers}
	for _, s := range servers {
		cpu, err := processCPU(s.pid)
		if err != nil {
			cpu = -1
		}
		m.server0 = append(m.server0, cpu)
	}
	m.resetErr = resetPeakRSS()
	if m.resetErr != nil {
		// Fall back to sampling the resident set size.
		m.polled.Add(1)
		go m.poll()
	}
	m.busy0, m.total0, m.machErr = machineCPU()
	m.cpu0, m.cpuErr = cpuTime()
	m.start = time.Now()
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
	wall := time.Since(m.start)
	busy1, total1, machErr := machineCPU()
	var servers []ServerCPU
	for i, s := range m.servers {
		if cpu, err := processCPU(s.pid); err == nil && m.server0[i] >= 0 {
			servers = append(servers, ServerCPU{Name: s.name, CPU: cpu - m.server0[i]})
		}
	}
	close(m.stopPoll)
	m.polled.Wait()
	u := usage{Err: m.cpuErr, MachineBusy: -1, Wall: wall, Servers: servers}
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
