// Package state holds the bounded keyed store that detectors keep
// per-conversation (or per-sender) state in: a map with a least-recently
// used order, capped in size, whose entries also go once they have been
// idle, by event time, for longer than a detector says. It is not safe for
// concurrent use; each detector instance owns its stores.
package state

// LRU maps keys to values in order of use, most recent first.
type LRU[V any] struct {
	items      map[string]*Entry[V]
	head, tail *Entry[V]
}

// Entry is one key's value, with the latest event time it was touched at.
type Entry[V any] struct {
	Key   string
	Value V
	Last  int64 // latest event time (Unix ns) the entry was touched at

	prev, next *Entry[V]
}

// NewLRU returns an empty store.
func NewLRU[V any]() *LRU[V] { return &LRU[V]{items: make(map[string]*Entry[V])} }

// Len is the number of entries.
func (l *LRU[V]) Len() int { return len(l.items) }

// Get returns the entry of key, or nil, without touching it.
func (l *LRU[V]) Get(key string) *Entry[V] { return l.items[key] }

// Touch returns the entry of key, marked as the most recently used and with
// Last raised to t. When there is none and create is set, it adds one whose
// Value is create(), first dropping the least recently used entry if the
// store already holds max; otherwise it returns nil. Looking up an existing
// key does not allocate.
func (l *LRU[V]) Touch(key []byte, t int64, max int, create func() V) *Entry[V] {
	e := l.items[string(key)]
	if e == nil {
		if create == nil {
			return nil
		}
		for len(l.items) >= max && l.tail != nil {
			l.Remove(l.tail)
		}
		e = &Entry[V]{Key: string(key), Value: create()}
		l.items[e.Key] = e
		l.pushFront(e)
	} else if l.head != e {
		l.unlink(e)
		l.pushFront(e)
	}
	e.Last = max64(e.Last, t)
	return e
}

// EvictIdle drops up to limit of the least recently used entries whose Last
// is more than idle before t. The limit keeps one message with a far-future
// time from wiping the store at once.
func (l *LRU[V]) EvictIdle(t, idle int64, limit int) {
	for range limit {
		if l.tail == nil || t-l.tail.Last <= idle {
			return
		}
		l.Remove(l.tail)
	}
}

// Shrink drops the least recently used entries until at most max remain.
func (l *LRU[V]) Shrink(max int) {
	for len(l.items) > max && l.tail != nil {
		l.Remove(l.tail)
	}
}

// Oldest returns the least recently used entry, or nil when the store is
// empty. A detector that must know which entries go (to report them, for
// example) evicts through it and Remove rather than through Touch's cap.
func (l *LRU[V]) Oldest() *Entry[V] { return l.tail }

// Each calls fn for every entry, most recently used first.
func (l *LRU[V]) Each(fn func(*Entry[V])) {
	for e := l.head; e != nil; e = e.next {
		fn(e)
	}
}

// Remove drops an entry.
func (l *LRU[V]) Remove(e *Entry[V]) {
	l.unlink(e)
	delete(l.items, e.Key)
}

func (l *LRU[V]) pushFront(e *Entry[V]) {
	e.prev, e.next = nil, l.head
	if l.head != nil {
		l.head.prev = e
	}
	l.head = e
	if l.tail == nil {
		l.tail = e
	}
}

func (l *LRU[V]) unlink(e *Entry[V]) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
