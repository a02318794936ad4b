package detectors

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"
)

// Category is what kind of harm a flag is about.
type Category string

const (
	Grooming   Category = "grooming"
	Harassment Category = "harassment"
	Spam       Category = "spam"
)

// Categories lists every Category, in a fixed order.
var Categories = []Category{Grooming, Harassment, Spam}

// ParseCategory checks that s names a Category.
func ParseCategory(s string) (Category, error) {
	for _, c := range Categories {
		if string(c) == s {
			return c, nil
		}
	}
	return "", fmt.Errorf("unknown category %q (want one of grooming, harassment, spam)", s)
}

// Severity orders flags for review. Low is informational; medium and above
// are for analysts to act on.
type Severity string

const (
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Severities lists every Severity from least to most severe.
var Severities = []Severity{Low, Medium, High, Critical}

// Rank returns 1 for low up to 4 for critical, 0 for an unknown value.
func (s Severity) Rank() int {
	for i, v := range Severities {
		if v == s {
			return i + 1
		}
	}
	return 0
}

// ParseSeverity checks that s names a Severity.
func ParseSeverity(s string) (Severity, error) {
	if Severity(s).Rank() == 0 {
		return "", fmt.Errorf("unknown severity %q (want one of low, medium, high, critical)", s)
	}
	return Severity(s), nil
}

// Mode says what a rule's flags are for. Live flags reach analysts; shadow
// flags are stored and counted for engineers evaluating a rule, but never
// enter the analysts' queue or alerts; rules that are off do not run.
type Mode string

const (
	Live   Mode = "live"
	Shadow Mode = "shadow"
	Off    Mode = "off"
)

// OrLive returns m, or Live when m is unset: how stores write a flag's mode.
func (m Mode) OrLive() Mode {
	if m == "" {
		return Live
	}
	return m
}

// ParseMode checks that s names a Mode.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case Live, Shadow, Off:
		return Mode(s), nil
	}
	return "", fmt.Errorf("unknown mode %q (want one of live, shadow, off)", s)
}

// Flag is the one output record of Goshawk. The same fields are stored in
// ClickHouse and SQLite, printed by replay and written to the flags topic.
type Flag struct {
	FlagID         string    `json:"flag_id"`
	MessageID      string    `json:"message_id"`
	ConversationID string    `json:"conversation_id"`
	SenderID       string    `json:"sender_id"`
	RecipientIDs   []string  `json:"recipient_ids"`
	Category       Category  `json:"category"`
	Detector       string    `json:"detector"`
	Rule           string    `json:"rule"`
	RuleVersion    string    `json:"rule_version"` // content hash of the rule that matched
	Mode           Mode      `json:"mode"`         // live, or shadow (kept out of analysts' views)
	Severity       Severity  `json:"severity"`
	Score          float64   `json:"score"`
	Evidence       string    `json:"evidence"`
	SentAt         time.Time `json:"sent_at"`
	DetectedAt     time.Time `json:"detected_at"`
}

// FlagID is the deterministic id of the flag that detector and rule raise on
// a message: re-processing the message after a crash or a rebalance gives
// the same id, so stores can collapse the duplicates.
func FlagID(messageID, detector, rule string) string {
	h := sha256.New()
	var n [4]byte
	for _, part := range []string{messageID, detector, rule} {
		binary.BigEndian.PutUint32(n[:], uint32(len(part)))
		h.Write(n[:])
		h.Write([]byte(part))
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}
