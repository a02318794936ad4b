package grooming

import (
	"testing"
)

func TestAgeDisclosure(t *testing.T) {
	for _, tc := range []struct {
		text  string
		reply bool // an age question by someone else is open
		age   int  // 0: no disclosure
		asks  bool
		bare  bool
	}{
		{text: "im 13", age: 13},
		{text: "i'm 13 years old", age: 13},
		{text: "I’m 13 yrs old lol", age: 13},
		{text: "I am 25", age: 25},
		{text: "Im only 12", age: 12},
		{text: "i'm like 25 lol", age: 25},
		{text: "im 13, wbu?", age: 13, asks: true},
		{text: "i'm 15 btw, you?", age: 15, asks: true},
		{text: "im 14 and a half", age: 14},
		{text: "why lol, im 13", age: 13},
		{text: "im 13 :)", age: 13},
		{text: "im 13 😊", age: 13},
		{text: "I'm 13yo", age: 13},
		{text: "im 13 y/o", age: 13},
		{text: "im thirteen", age: 13},
		{text: "i'm twenty five", age: 25},
		{text: "i'm twenty-five", age: 25},
		{text: "turning 14 next month", age: 0}, // no first person and no question: not read
		{text: "turning 13 next month :)", reply: true, age: 12},
		{text: "almost 12", reply: true, age: 11},
		{text: "nah 8th grade", reply: true, age: 13},
		{text: "yep year 7", reply: true, age: 11},
		{text: "yeah 13 wbu", reply: true, age: 13, asks: true},
		{text: "yeah 13 people came"},
		{text: "nah 8th grade", age: 0},
		{text: "im turning 14 next month", age: 13},
		{text: "I'm gonna be 14 in june", age: 13},
		{text: "i just turned 13", age: 13},
		{text: "I turned 16 last week", age: 16},
		{text: "i just turned 13 on tuesday", age: 13},
		{text: "since i was like 8. i just turned 13 on tuesday", age: 13},
		{text: "its my birthday on saturday so ill be 12 then", age: 11},
		{text: "I'll be 14 next month", age: 13},
		{text: "i will be 10 in june", age: 9},
		{text: "I'll be 10 minutes late"},
		{text: "when I'll be 18 I can vote"},
		{text: "i start high school after summer", age: 14},
		{text: "I'm starting year 7 in september", age: 10},
		{text: "i start year 7 in september", age: 10},
		{text: "I start work at 9"},
		{text: "11 but 12 in like 3 weeks", reply: true, age: 11},
		{text: "11 but 12 in like 3 weeks"},
		{text: "14 yeah, 15 in october", reply: true, age: 14},
		{text: "13, 8th grade", reply: true, age: 13},
		{text: "haha 14, 9th grade", reply: true, age: 14},
		{text: "14 since january. near chicago", reply: true, age: 14},
		{text: "13. you?", reply: true, age: 13, asks: true},
		{text: "14 yeah, 20 in my class", reply: true}, // another number: not the next age
		{text: "14 since january"},                     // no question open
		{text: "12 cookies since monday", reply: true},
		{text: "my age is 15", age: 15},
		{text: "I'm in 8th grade", age: 13},
		{text: "im in the 7th grade", age: 12},
		{text: "i'm in year 9", age: 13},
		{text: "im in yr 8", age: 12},
		{text: "I'm in grade 6", age: 11},
		{text: "i'm in middle school", age: 12},
		{text: "im in high school", age: 15},
		{text: "I'm an 8th grader", age: 13},
		{text: "9th grade", age: 14},
		{text: "year 9", age: 13},
		{text: "year 10 lol", age: 14},
		{text: "13 f uk", age: 13},
		{text: "13f", age: 13},
		{text: "13/f/uk", age: 13},
		{text: "14 years old", age: 14},
		{text: "13", reply: true, age: 13},
		{text: "14 u?", reply: true, age: 14, asks: true},
		{text: "15 lol why", reply: true, age: 15},
		{text: "thirteen", reply: true, age: 13},
		// Not ages.
		{text: "13"},
		{text: "14 u?"},
		{text: "11", reply: false},
		{text: "2 more days", reply: true},
		{text: "5", reply: true},
		{text: "I'm 5 minutes away"},
		{text: "im 12 hours into this game"},
		{text: "I'm 100% sure"},
		{text: "i'm 99 percent sure"},
		{text: "I'm 6'2"},
		{text: "im 12.5 km from you"},
		{text: "I'm 2 tired"},
		{text: "im 30 mins late sorry"},
		{text: "I'm 12th in the queue"},
		{text: "when I'm 18 I'm moving out"},
		{text: "if im 18 by then"},
		{text: "I was 13 when I started"},
		{text: "my sister is 13"},
		{text: "you're 13?"},
		{text: "high school was fun"},
		{text: "year 9 is hard"},
		{text: "8th place lol"},
		{text: "im $20 short"},
		{text: "im 5-0 up"},
		{text: "im not 13"},
		{text: "19:30 works"},
		{text: "I'm 13 minutes late", reply: true},
		{text: "10 m away"},
		{text: "im turning 14 in may", age: 13},
		// Birth years, read in 2026: the younger of the two ages.
		{text: "2011, 14 in july", reply: true, age: 14},
		{text: "2012", reply: true, age: 13},
		{text: "2012"},
		{text: "born in 2012 lol", age: 13},
		{text: "i was born in 1990", age: 35},
		{text: "my dad was born in 1980"},
		{text: "2012 was a good year", reply: true},
		// A bare answer followed by a new clause.
		{text: "10 its in my name lol", reply: true, age: 10},
		{text: "12 i think", reply: true, age: 12},
		{text: "10 minutes", reply: true},
		{text: "starting 6th in september", reply: true, age: 10},
		{text: "going into year 8", reply: true, age: 11},
		{text: "starting 6th in september"},
		{text: "6th", reply: true, age: 11},
		{text: "6th"},
		{text: "ok real talk im actually 21 not 16", age: 21},
		{text: "year 6 and doing this already", age: 10, bare: true},
	} {
		var p ageParser
		d, ok := p.find(tc.text, tc.reply, 2026)
		switch {
		case ok && tc.bare && !d.bare:
			t.Errorf("%q: bare %v, want %v", tc.text, d.bare, tc.bare)
		case tc.age == 0 && ok:
			t.Errorf("%q: read age %d, want none", tc.text, d.age)
		case tc.age != 0 && !ok:
			t.Errorf("%q: no age, want %d", tc.text, tc.age)
		case ok && (d.age != tc.age || d.asks != tc.asks):
			t.Errorf("%q: age %d asks %v, want %d %v", tc.text, d.age, d.asks, tc.age, tc.asks)
		case ok && (d.start < 0 || d.end > len(tc.text) || d.start >= d.end):
			t.Errorf("%q: span %d..%d", tc.text, d.start, d.end)
		}
	}
}

func TestAgeOfAddressee(t *testing.T) {
	for _, tc := range []struct {
		text string
		age  int // 0: none
	}{
		{"thats rough man. ur 13 not 5", 13},
		{"you're only 12 lol", 12},
		{"u r 14 and already this good", 14},
		{"you're 13?", 0},
		{"ur 13 ?", 0},
		{"you're 30 and still gaming", 0}, // an adult's age changes nothing
		{"when ur 16 you can drive", 0},
		{"ur 5 minutes late", 0},
		{"my sister is 13", 0},
	} {
		var p ageParser
		p.find(tc.text, false, 2026)
		d, ok := p.findYou(tc.text)
		switch {
		case tc.age == 0 && ok:
			t.Errorf("%q: read %d, want none", tc.text, d.age)
		case tc.age != 0 && (!ok || d.age != tc.age):
			t.Errorf("%q: read %d (%v), want %d", tc.text, d.age, ok, tc.age)
		}
	}
}

func TestAgeParserDoesNotAllocate(t *testing.T) {
	var p ageParser
	p.find("warm up: im 13 and you?", false, 2026)
	allocs := testing.AllocsPerRun(100, func() {
		p.find("haha I'm 13 years old, what about you? I'm in year 8 btw", false, 2026)
	})
	if allocs != 0 {
		t.Errorf("find allocates %v times per message", allocs)
	}
}
