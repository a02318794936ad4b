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

// Registry returns a new registry of every built-in detector, in the order
// they run.
func Registry() (*detectors.Registry, error) {
	return detectors.NewRegistry(
		keyword.Factory(),
		contactshare.Factory(),
		harassment.Factory(),
		grooming.Factory(),
		spam.Factory(),
	)
}
