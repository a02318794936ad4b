package detectors

import (
	"strings"
	"sync"
)

// CompileCache remembers the last form a detector compiled its rules into,
// keyed by the rules' ids, versions and modes (what a compiled form depends
// on). The pipeline builds one detector instance per worker, and a reload
// rebuilds every instance; with one cache per factory they all share one
// compiled form instead of compiling the same rules again. It is safe for
// concurrent use; the zero value is empty. A nil cache compiles every time.
type CompileCache[T any] struct {
	mu  sync.Mutex
	key string
	val T
	ok  bool
}

// Compile returns compile(rules), from the cache when the rules are those
// of the previous call.
func (c *CompileCache[T]) Compile(rules []*Rule, compile func([]*Rule) (T, error)) (T, error) {
	if c == nil {
		return compile(rules)
	}
	var b strings.Builder
	for _, r := range rules {
		b.WriteString(r.ID)
		b.WriteByte(0)
		b.WriteString(r.Version)
		b.WriteByte(0)
		b.WriteString(string(r.Mode))
		b.WriteByte('\n')
	}
	key := b.String()
	c.mu.Lock()
	val, hit := c.val, c.ok && c.key == key
	c.mu.Unlock()
	if hit {
		return val, nil
	}
	val, err := compile(rules)
	if err != nil {
		return val, err
	}
	c.mu.Lock()
	c.key, c.val, c.ok = key, val, true
	c.mu.Unlock()
	return val, nil
}
