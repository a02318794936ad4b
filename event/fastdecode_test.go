package event_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/generator"
)

const plain = `{"message_id":"m-1","conversation_id":"c-1","sent_at":"2026-11-25T12:00:00Z","sender":{"id":"u-1","age":34,"account_created_at":"2026-11-01T00:00:00Z"},"recipients":[{"id":"u-2","age":13}],"text":"hey"}`

// replaced is plain with old replaced by new (once).
func replaced(old, new string) string {
	if !strings.Contains(plain, old) {
		panic("no " + old)
	}
	return strings.Replace(plain, old, new, 1)
}

// fastCases are inputs whose handling by the fast path is known: fast says
// whether decodeFast must take them (else encoding/json decides alone).
// Every one, taken or not, must give what encoding/json gives.
var fastCases = []struct {
	name  string
	input string
	fast  bool
}{
	{"plain", plain, true},
	{"whitespace everywhere", " {\n\t\"message_id\" : \"m-1\" ,\r\n\"conversation_id\":\"c-1\",\"sent_at\":\"2026-11-25T12:00:00Z\",\"sender\": { \"id\" : \"u-1\" } ,\"recipients\":[ { \"id\":\"u-2\" } , {\"id\":\"u-3\"} ] , \"text\" : \"\" } \n", true},
	{"members in another order", `{"text":"hi","recipients":[{"age":13,"id":"u-2"}],"sender":{"age":34,"id":"u-1"},"sent_at":"2026-11-25T12:00:00Z","conversation_id":"c-1","message_id":"m-1"}`, true},
	{"escapes", replaced(`"hey"`, `"a\"b\\c\/d\b\f\n\r\te\u00e9\u20AC\ud83d\ude00 end"`), true},
	{"escape in an id", replaced(`"u-2"`, `"u\u002d2"`), true},
	{"raw multibyte text", replaced(`"hey"`, `"héllo 😀 \u2028 ok"`), true},
	{"null members", replaced(`"age":34,"account_created_at":"2026-11-01T00:00:00Z"`, `"age":null,"account_created_at":null`), true},
	{"null text", replaced(`"hey"`, `null`), true},
	{"null sender", replaced(`{"id":"u-1","age":34,"account_created_at":"2026-11-01T00:00:00Z"}`, `null`), true},
	{"null recipients", replaced(`[{"id":"u-2","age":13}]`, `null`), true},
	{"empty recipients", replaced(`[{"id":"u-2","age":13}]`, `[]`), true},
	{"empty recipient", replaced(`{"id":"u-2","age":13}`, `{}`), true},
	{"schema version", replaced(`{"message_id"`, `{"schema_version":1,"message_id"`), true},
	{"schema version 2", replaced(`{"message_id"`, `{"schema_version":2,"message_id"`), true},
	{"negative age", replaced(`"age":34`, `"age":-3`), true},
	{"minus zero", replaced(`"age":34`, `"age":-0`), true},
	{"age 18 digits", replaced(`"age":34`, `"age":999999999999999999`), true},
	{"empty id", replaced(`"m-1"`, `""`), true},
	{"many recipients", replaced(`[{"id":"u-2","age":13}]`, "["+strings.TrimSuffix(strings.Repeat(`{"id":"r","age":9},`, 9), ",")+"]"), true},
	{"empty object", `{}`, true},

	{"age 19 digits", replaced(`"age":34`, `"age":1000000000000000000`), false},
	{"age too big for int64", replaced(`"age":34`, `"age":99999999999999999999`), false},
	{"fractional age", replaced(`"age":34`, `"age":34.0`), false},
	{"exponent age", replaced(`"age":34`, `"age":3e1`), false},
	{"leading zero age", replaced(`"age":34`, `"age":034`), false},
	{"string age", replaced(`"age":34`, `"age":"34"`), false},
	{"number id", replaced(`"m-1"`, `17`), false},
	{"bool text", replaced(`"hey"`, `true`), false},
	{"unknown member", replaced(`{"message_id"`, `{"extra":{"x":[1,2]},"message_id"`), false},
	{"unknown recipient member", replaced(`{"id":"u-2","age":13}`, `{"id":"u-2","age":13,"account_created_at":"2026-11-01T00:00:00Z"}`), false},
	{"other case", replaced(`"text"`, `"Text"`), false},
	{"escaped key", replaced(`"text"`, `"te\u0078t"`), false},
	{"repeated member", replaced(`"text":"hey"`, `"text":"hey","text":"again"`), false},
	{"repeated sender", replaced(`"text":"hey"`, `"text":"hey","sender":{"age":3}`), false},
	{"lone high surrogate", replaced(`"hey"`, `"\ud83d"`), false},
	{"lone low surrogate", replaced(`"hey"`, `"\ude00x"`), false},
	{"reversed surrogates", replaced(`"hey"`, `"\ude00\ud83d"`), false},
	{"bad escape", replaced(`"hey"`, `"\x41"`), false},
	{"short unicode escape", replaced(`"hey"`, `"\u12"`), false},
	{"raw control character", replaced(`"hey"`, "\"a\tb\""), false},
	{"null recipient", replaced(`[{"id":"u-2","age":13}]`, `[null]`), false},
	{"trailing comma", replaced(`"text":"hey"}`, `"text":"hey",}`), false},
	{"trailing data", plain + ` {}`, false},
	{"top-level array", `[` + plain + `]`, false},
	{"unterminated", plain[:len(plain)-1], false},
	{"nullx", replaced(`"hey"`, `nullx`), false},
	{"1001 recipients", replaced(`[{"id":"u-2","age":13}]`, "["+strings.TrimSuffix(strings.Repeat(`{"id":"r"},`, 1001), ",")+"]"), false},
}

func TestDecodeFastAgreesWithJSON(t *testing.T) {
	for _, tc := range fastCases {
		t.Run(tc.name, func(t *testing.T) {
			fast, diff := event.CompareFastWithJSON([]byte(tc.input))
			if diff != "" {
				t.Fatal(diff)
			}
			if fast != tc.fast {
				t.Fatalf("fast path taken: %v, want %v", fast, tc.fast)
			}
		})
	}
}

// The fast path must carry the traffic a producer sends: all of the
// generator's valid events. If it stopped (a new field, say), decoding
// would silently be four times slower.
func TestDecodeFastTakesGeneratedTraffic(t *testing.T) {
	for _, seed := range []int64{1, 7, 2026} {
		gen := generator.New(seed, generator.Options{BadRatio: 0.05})
		for i := range 5000 {
			e := gen.Next()
			fast, diff := event.CompareFastWithJSON(e.Value)
			if diff != "" {
				t.Fatalf("seed %d event %d: %s\n%s", seed, i, diff, e.Value)
			}
			if !e.Bad && !fast {
				t.Fatalf("seed %d event %d: the fast path did not take a valid generated event:\n%s", seed, i, e.Value)
			}
		}
	}
}

func FuzzDecodeFast(f *testing.F) {
	for _, tc := range fastCases {
		if len(tc.input) < 4096 {
			f.Add([]byte(tc.input))
		}
	}
	for _, in := range event.DecodeCaseInputs() {
		if len(in) < 4096 {
			f.Add([]byte(in))
		}
	}
	gen := generator.New(3, generator.Options{BadRatio: 0.2})
	for range 200 {
		f.Add(gen.Next().Value)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, diff := event.CompareFastWithJSON(data); diff != "" {
			t.Fatalf("%s\ninput: %q", diff, data)
		}
	})
}

func BenchmarkDecodeGenerated(b *testing.B) {
	values := generatedValues(1000)
	for _, bc := range []struct {
		name   string
		decode func([]byte) (*event.Message, error)
	}{{"fast", event.Decode}, {"json", event.DecodeJSONOnly}} {
		b.Run(bc.name, func(b *testing.B) {
			var bytes int64
			for _, v := range values {
				bytes += int64(len(v))
			}
			b.SetBytes(bytes / int64(len(values)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := bc.decode(values[i%len(values)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func generatedValues(n int) [][]byte {
	gen := generator.New(7, generator.Options{})
	out := make([][]byte, n)
	for i := range out {
		out[i] = gen.Next().Value
	}
	return out
}

func ExampleDecode() {
	m, err := event.Decode([]byte(plain))
	fmt.Println(m.MessageID, m.Sender.ID, *m.Recipients[0].Age, m.Text, err)
	// Output: m-1 u-1 13 hey <nil>
}

// Escapes cost memory in proportion to the string that has them, not to
// the rest of the record: a record of a thousand escaped recipient ids
// (about 120 KB) once made the fast path allocate some 60 MB.
func TestDecodeFastEscapesAllocateLittle(t *testing.T) {
	var ids []string
	for i := range 1000 {
		ids = append(ids, fmt.Sprintf(`{"id":"\u0041%s-%d"}`, strings.Repeat("x", 100), i))
	}
	data := []byte(replaced(`[{"id":"u-2","age":13}]`, "["+strings.Join(ids, ",")+"]"))
	if fast, diff := event.CompareFastWithJSON(data); !fast || diff != "" {
		t.Fatalf("fast path taken %v, diff %q", fast, diff)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, err := event.Decode(data)
	runtime.ReadMemStats(&after)
	if err != nil || len(m.Recipients) != 1000 || !strings.HasPrefix(m.Recipients[999].ID, "Axxx") {
		t.Fatalf("Decode: %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 4*uint64(len(data)) {
		t.Errorf("decoding a %d-byte record allocated %d bytes", len(data), n)
	}
}
