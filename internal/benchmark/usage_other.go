//go:build !linux

package benchmark

import (
	"errors"
	"time"
)

var errUnsupported = errors.New("not measured on this operating system (Linux only)")

func cpuTime() (time.Duration, error) { return 0, errUnsupported }

func resetPeakRSS() error { return errUnsupported }

func peakRSS() (int64, error) { return 0, errUnsupported }

func machineCPU() (busy, total uint64, err error) { return 0, 0, errUnsupported }

func processCPU(int) (time.Duration, error) { return 0, errUnsupported }

func listeningPID(int) int { return 0 }
