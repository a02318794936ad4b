// Package spam detects spam and scams in private messages: fan-out of one
// sender to many strangers, bursts faster than anyone types, the same text
// from many accounts, links that phishing favours, young accounts and scam
// wording, added up into one score per message (SpamAssassin style) and
// flagged by score tiers.
//
// Spam is a sender's behaviour, and a sender's messages are spread over
// conversations, partitions and pipeline instances, so the work is split
// in three. Detector runs in the per-conversation engine: it raises no
// finding, and forwards each message's features to stream spam-sender
// (keyed by sender) and its text fingerprint to spam-fingerprint (keyed by
// band bucket). FingerprintStage counts near-duplicates across
// conversations and forwards the content fan-out levels a message reaches
// to spam-sender. SenderStage keeps each sender's recent messages, scores
// them and flags. Both stages decide from the set of records they have
// seen, not their order, so a replay on one instance and a stream on many
// flag the same messages; Route runs the chain in process.
//
// docs/spam.md describes the signals, weights and tiers, the streams and
// their record formats, the order-insensitivity argument with its lateness
// bound, the measured numbers and the limits.
package spam
