package state

import (
	"slices"
	"testing"
)

func keys[V any](l *LRU[V]) []string {
	var out []string
	l.Each(func(e *Entry[V]) { out = append(out, e.Key) })
	return out
}

func TestLRU(t *testing.T) {
	l := NewLRU[int]()
	one := func() int { return 1 }
	for i, k := range []string{"a", "b", "c"} {
		l.Touch([]byte(k), int64(i), 3, one)
	}
	if got := keys(l); !slices.Equal(got, []string{"c", "b", "a"}) {
		t.Fatalf("order %v", got)
	}
	l.Touch([]byte("a"), 10, 3, nil) // touch moves to front, raises Last
	if got := keys(l); !slices.Equal(got, []string{"a", "c", "b"}) || l.Get("a").Last != 10 {
		t.Fatalf("after touch: %v, a.Last %d", got, l.Get("a").Last)
	}
	l.Touch([]byte("a"), 5, 3, nil) // an earlier time does not lower Last
	if l.Get("a").Last != 10 {
		t.Fatalf("Last went back to %d", l.Get("a").Last)
	}
	if e := l.Touch([]byte("zz"), 11, 3, nil); e != nil || l.Len() != 3 {
		t.Fatal("Touch without create added an entry")
	}
	if o := l.Oldest(); o == nil || o.Key != "b" {
		t.Fatalf("Oldest() = %v, want b", o)
	}
	l.Touch([]byte("d"), 12, 3, one) // at the cap: b, least recently used, goes
	if got := keys(l); !slices.Equal(got, []string{"d", "a", "c"}) {
		t.Fatalf("after cap: %v", got)
	}
	// c (Last 2) and a (Last 10) are idle for more than 5 at t=16; d (12)
	// is not. The limit of 1 drops only the oldest.
	l.EvictIdle(16, 5, 1)
	if got := keys(l); !slices.Equal(got, []string{"d", "a"}) {
		t.Fatalf("after evicting 1 idle: %v", got)
	}
	l.EvictIdle(16, 5, 10)
	if got := keys(l); !slices.Equal(got, []string{"d"}) {
		t.Fatalf("after evicting idle: %v", got)
	}
	l.Touch([]byte("e"), 20, 10, one)
	l.Shrink(1)
	if o := l.Oldest(); o == nil || o.Key != "e" {
		t.Fatalf("Oldest() = %v after shrink, want e", o)
	}
	if got := keys(l); !slices.Equal(got, []string{"e"}) || l.Get("d") != nil {
		t.Fatalf("after shrink: %v", got)
	}
	l.Remove(l.Oldest())
	if l.Oldest() != nil {
		t.Fatal("Oldest() of an empty store is not nil")
	}
}

func TestTouchDoesNotAllocateForExistingKeys(t *testing.T) {
	l := NewLRU[int]()
	key := []byte("conversation\x00sender")
	l.Touch(key, 1, 10, func() int { return 0 })
	if n := testing.AllocsPerRun(100, func() { l.Touch(key, 2, 10, nil) }); n != 0 {
		t.Errorf("Touch of an existing key allocates %v times", n)
	}
}

func TestOldest(t *testing.T) {
	l := NewLRU[int]()
	if l.Oldest() != nil {
		t.Fatal("empty store has an oldest entry")
	}
	one := func() int { return 1 }
	for i, k := range []string{"a", "b", "c"} {
		l.Touch([]byte(k), int64(i), 10, one)
	}
	if o := l.Oldest(); o == nil || o.Key != "a" {
		t.Fatalf("oldest %v, want a", o)
	}
	l.Touch([]byte("a"), 5, 10, nil)
	if o := l.Oldest(); o.Key != "b" {
		t.Fatalf("after touching a, oldest %q, want b", o.Key)
	}
	l.Remove(l.Oldest())
	if o := l.Oldest(); o.Key != "c" || l.Len() != 2 {
		t.Fatalf("after removing the oldest: oldest %q, %d entries", o.Key, l.Len())
	}
}
