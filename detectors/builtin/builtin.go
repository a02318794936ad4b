// Package builtin lists every detector compiled into Goshawk. Registry is
// the one place to edit when a detector is added: the pipeline, replay, the
// demo and the tests all take their detectors from it.
package builtin

import (
	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/contactshare"
	"github.com/goshawk-safety/goshawk/detectors/grooming"
	"github.com/goshawk-safety/goshawk/detectors/harassment"
	"github.com/goshawk-safety/goshawk/detectors/keyword"
	"github.com/goshawk-safety/goshawk/detectors/spam"
)

// Options tune the built-in detectors that take settings beyond their rules.
type Options struct {
	Grooming grooming.Options
}

// DefaultOptions are the settings Registry uses.
func DefaultOptions() Options {
	return Options{Grooming: grooming.DefaultOptions()}
}

// Registry returns a new registry of every built-in detector, in the order
// they run, with the default options.
func Registry() (*detectors.Registry, error) { return RegistryWith(DefaultOptions()) }

// RegistryWith is Registry with the given options.
func RegistryWith(o Options) (*detectors.Registry, error) {
	return detectors.NewRegistry(
		keyword.Factory(),
		contactshare.Factory(),
		harassment.Factory(),
		grooming.NewFactory(o.Grooming),
		spam.Factory(),
	)
}
