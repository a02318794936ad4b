// Package corpus reads the grooming detector's labelled conversations
// (detectors/grooming/testdata/corpus), for the detector's own corpus test
// and for the pipeline's tests that run them through Kafka.
package corpus

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/goshawk-safety/goshawk/event"
)

// A labelled conversation of testdata/corpus/*.yaml:
//
//	label: grooming            # or benign (a hard negative)
//	kind: fast (one evening), declared ages
//	start: 2026-01-09T18:40:00Z
//	ages: {rik: 34, mia: 13}   # declared ages; a person not listed declares none
//	meeting: 26                # 1-based message number of the first in-person meeting request; 0 for none
//	messages:
//	  - [rik, 0, "hey"]        # sender, time since the previous message (s, m, h, d), text
//
// Every person who writes is a participant, and each message goes to all
// the others.
type Conversation struct {
	Name     string
	Label    string           `yaml:"label"`
	Kind     string           `yaml:"kind"`
	Start    time.Time        `yaml:"start"`
	Ages     map[string]int   `yaml:"ages"`
	Meeting  int              `yaml:"meeting"`
	Messages [][]string       `yaml:"messages"`
	Events   []*event.Message `yaml:"-"`
}

// Grooming reports whether the conversation is labelled grooming.
func (c *Conversation) Grooming() bool { return c.Label == "grooming" }

// parseAfter reads 0, 30s, 5m, 2h or 3d.
func parseAfter(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		return time.Duration(n) * 24 * time.Hour, err
	}
	return time.ParseDuration(s)
}

// Load reads every *.yaml conversation in dir, in file-name order.
func Load(dir string) ([]*Conversation, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("corpus %s: %v (%d files)", dir, err, len(files))
	}
	var out []*Conversation
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		c := &Conversation{Name: strings.TrimSuffix(filepath.Base(f), ".yaml")}
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(c); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if err := c.build(); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func (c *Conversation) build() error {
	switch {
	case c.Label != "grooming" && c.Label != "benign":
		return fmt.Errorf("label %q: want grooming or benign", c.Label)
	case len(c.Messages) < 10 || len(c.Messages) > 60:
		return fmt.Errorf("%d messages, want 10 to 60", len(c.Messages))
	case c.Meeting < 0 || c.Meeting > len(c.Messages):
		return fmt.Errorf("meeting %d out of range", c.Meeting)
	case c.Meeting > 0 && !c.Grooming():
		return fmt.Errorf("meeting is only labelled in grooming conversations")
	case c.Start.IsZero() || c.Kind == "":
		return fmt.Errorf("start and kind are required")
	}
	var people []string
	for _, m := range c.Messages {
		if len(m) != 3 {
			return fmt.Errorf("message %v: want [from, after, text]", m)
		}
		if !slices.Contains(people, m[0]) {
			people = append(people, m[0])
		}
	}
	for p := range c.Ages {
		if !slices.Contains(people, p) {
			return fmt.Errorf("ages: %s writes nothing", p)
		}
	}
	participant := func(id string) event.Participant {
		p := event.Participant{ID: id}
		if a, ok := c.Ages[id]; ok {
			p.Age = &a
		}
		return p
	}
	at := c.Start
	for i, m := range c.Messages {
		after, err := parseAfter(m[1])
		if err != nil {
			return fmt.Errorf("message %d: after %q: %v", i+1, m[1], err)
		}
		at = at.Add(after)
		ev := &event.Message{
			MessageID: fmt.Sprintf("%s-m%d", c.Name, i+1), ConversationID: c.Name, SentAt: at,
			Sender: participant(m[0]), Text: m[2],
		}
		for _, p := range people {
			if p != m[0] {
				ev.Recipients = append(ev.Recipients, participant(p))
			}
		}
		c.Events = append(c.Events, ev)
	}
	return nil
}
