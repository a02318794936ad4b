// Package grooming is the grooming detector. Grooming unfolds over days or
// weeks in stages (O'Connell; Olson et al.): friendship and trust,
// information and supervision, gifts, isolation and secrecy, moving to
// another platform, photos, sexualised talk, a meeting. Each stage alone is
// everyday talk; the sequence, from an adult towards a minor, is the
// signal.
//
// Stage rules (rules.yaml) turn words into stage signals, kept per
// conversation in a bounded LRU (detectors/state) with the participants'
// stated ages (age.go) and contexts such as family or parents in the loop.
// On each new signal the sender's risk is scored from the distinct stages,
// their order, their speed, their age against the others' and the
// contexts, decaying in event time (score.go); tier rules fire once per
// conversation when the risk first reaches them, with the trajectory as
// evidence, and minor rules flag sexualised talk aimed at a known minor on
// its own.
//
// The state is durable (detectors.Durable): every conversation whose state
// changed is handed out in a compact versioned encoding (codec.go) for the
// pipeline's changelog, and restored from it after a restart or a
// rebalance. docs/grooming.md documents the stages, rule fields, scoring,
// tiers, durability contract, evidence format and limits.
package grooming
