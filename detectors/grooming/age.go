package grooming

// Ages people state about themselves in a message: "im 13", "i'm 13 years
// old", "I am 25", "i'm only 12", "turning 14", "I just turned 13", "my age
// is 15", "I'm in 8th grade", "im in year 9", "I'm in middle school", "13
// f", "13yo", and, as the answer to an age question asked within the hour
// by someone else, a bare "13" or "13 u?". The speaker is the sender.
//
// Ages are read from the original text, not the normal form: the normal
// form reads leetspeak, and "13yo" would become "1eyo". A hand-written
// tokenizer over ASCII, no regular expression and no allocation once its
// buffer has grown.
//
// Precision matters more than recall here: a wrong age changes every
// score of the conversation. After the number, the message must end, a
// clause must end (punctuation, an emoji), or one of a short list of words
// must follow ("and", "lol", "wbu", "years old"…), so that "I'm 5 minutes
// away", "im 12 hours into this game", "I'm 100% sure" and "I'm 6'2" are
// not ages. A clause that starts with "when", "if", "until"… ("when I'm
// 18") is not the present.

import (
	"unicode/utf8"
)

// Gaps between tokens.
const (
	gapStart  uint8 = iota // the first token
	gapGlued               // nothing between ("13yo": "13", "yo")
	gapSpace               // only spaces
	gapHyphen              // exactly "-" ("twenty-five")
	gapSlash               // a slash, maybe with spaces ("13/f")
	gapPunct               // a comma, colon, emoji or other non-word character
	gapBreak               // . ! ? ; or a line break: the sentence ended
	gapBad                 // characters that make a number not an age: 5%, 6'2, 12.5, $20
)

const maxKey = 12

// token is a word or a number of the original text.
type token struct {
	start, end int32
	num        int16 // the value of a run of one or two digits, or a number word; -1 otherwise
	digits     bool  // a run of digits (num is -1 when it has three or more)
	year       int16 // a run of four digits from 1900 to 2099 ("2011"); 0 otherwise
	gap        uint8 // what separates it from the previous token
	n          uint8 // bytes in key; maxKey+1 when the word is longer
	key        [maxKey]byte
}

func (t *token) is(w string) bool { return int(t.n) == len(w) && string(t.key[:t.n]) == w }

func (t *token) word() string {
	if t.n > maxKey {
		return ""
	}
	return string(t.key[:t.n])
}

// ageParser finds self-disclosed ages; it keeps its token buffer between
// messages.
type ageParser struct {
	toks []token
	now  int // the year of the message, for birth years
}

// maxAgeTokens bounds the tokens read from one message: disclosures are
// short and near the start.
const maxAgeTokens = 96

// disclosure is a stated age and where it is in the original text.
type disclosure struct {
	age        int
	start, end int
	asks       bool // the message asks the age back ("im 25 wbu?")
	// bare: read at the start of the message with no first-person word
	// ("13 f", "year 6 lol"): when it answers no question and repeats an
	// age someone else stated, it is an echo ("Year 6 and doing this
	// already!"), not the sender's own.
	bare bool
}

// hasDigit reports whether s may state an age in digits. Number words and
// school names are found by the matcher (roleAgeHint).
func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return true
		}
	}
	return false
}

// find returns the first age the speaker states about themselves in s,
// sent in year now (for birth years: "born in 2012" is 13 in 2026, the
// younger of the two ages it can mean). reply says an age question by
// someone else is open, so that a bare number or year answers it.
func (p *ageParser) find(s string, reply bool, now int) (disclosure, bool) {
	p.now = now
	p.tokenize(s)
	t := p.toks
	for i := range t {
		var age, end int
		ok, bare := false, false
		switch {
		case t[i].is("im") || t[i].is("iam"):
			age, end, ok = p.afterFirstPerson(i, i+1)
		case t[i].is("i") && i+1 < len(t) && t[i+1].gap == gapSpace && t[i+1].is("am"):
			age, end, ok = p.afterFirstPerson(i, i+2)
		case t[i].is("i"):
			age, end, ok = p.turned(i)
			if !ok {
				age, end, ok = p.willBe(i, i+1)
			}
			if !ok {
				age, end, ok = p.starting(i)
			}
		case t[i].is("ill"):
			age, end, ok = p.willBe(i, i+1)
		case t[i].is("my"):
			age, end, ok = p.myAge(i)
		case t[i].is("born"):
			age, end, ok = p.born(i)
		case i == 0:
			age, end, ok = p.initial(reply)
			bare = true
		}
		if ok {
			d := disclosure{age: age, start: int(t[i].start), end: int(t[end-1].end), bare: bare}
			d.asks = p.asksBack(end)
			return d, true
		}
	}
	return disclosure{}, false
}

// blockedBefore reports whether the clause of token i starts with a word
// that puts it out of the present ("when I'm 18", "if im 13").
func (p *ageParser) blockedBefore(i int) bool {
	for k := i - 1; k >= 0 && k >= i-3; k-- {
		switch p.toks[k].word() {
		case "when", "if", "until", "till", "til", "once", "unless", "whenever", "since", "after", "before", "was", "were":
			return true
		}
		if p.toks[k+1].gap >= gapPunct {
			break
		}
	}
	return false
}

// afterFirstPerson reads what follows "im" / "i am" (token j on).
func (p *ageParser) afterFirstPerson(i, j int) (int, int, bool) {
	if p.blockedBefore(i) {
		return 0, 0, false
	}
	t := p.toks
	delta := 0
	for range 3 {
		if j >= len(t) || t[j].gap != gapSpace {
			return 0, 0, false
		}
		if hedge(t[j].word()) {
			j++
			continue
		}
		switch t[j].word() {
		case "turning":
			delta = -1
			j++
			continue
		case "gonna", "about":
			if j+2 < len(t) && t[j+1].is("be") {
				delta = -1
				j += 2
				continue
			}
			if j+3 < len(t) && t[j+1].is("to") && t[j+2].is("be") {
				delta = -1
				j += 3
				continue
			}
		case "going":
			if j+3 < len(t) && t[j+1].is("to") && t[j+2].is("be") {
				delta = -1
				j += 3
				continue
			}
		case "in":
			return p.school(j + 1)
		case "starting", "beginning":
			if age, end, ok := p.schoolThen(j + 1); ok {
				return age - 1, end, true
			}
			return 0, 0, false
		case "a", "an":
			// "I'm an 8th grader"
			if j+2 < len(t) && t[j+1].digits && t[j+2].gap == gapGlued && ordinal(&t[j+2]) && j+3 < len(t) && t[j+3].is("grader") {
				return p.grade(int(t[j+1].num)+5, j+4, 1, 12)
			}
			return 0, 0, false
		}
		break
	}
	v, k := p.number(j)
	if v < 5 || v > 99 {
		return 0, 0, false
	}
	k = p.yearsOld(k)
	if !p.continues(k) && !(delta < 0 && k < len(t) && t[k].gap == gapSpace && futureWord(t[k].word())) {
		return 0, 0, false
	}
	return v + delta, k, true
}

// futureWord may follow the age someone is about to be: "turning 14 in
// june", "gonna be 14 on friday".
func futureWord(w string) bool {
	switch w {
	case "in", "on", "this", "after", "before", "tomorrow", "today":
		return true
	}
	return false
}

// turned reads "I turned 13", "I just turned 13".
func (p *ageParser) turned(i int) (int, int, bool) {
	t := p.toks
	j := i + 1
	if j < len(t) && t[j].is("just") {
		j++
	}
	if j >= len(t) || !t[j].is("turned") || p.blockedBefore(i) {
		return 0, 0, false
	}
	v, k := p.number(j + 1)
	if v < 5 || v > 99 {
		return 0, 0, false
	}
	k = p.yearsOld(k)
	if !p.continues(k) && !p.when(k) {
		return 0, 0, false
	}
	return v, k, true
}

// when reports whether token k starts a time ("on tuesday", "last week",
// "in june"): what may follow a birthday age.
func (p *ageParser) when(k int) bool {
	t := p.toks
	if k >= len(t) || t[k].gap != gapSpace {
		return false
	}
	switch w := t[k].word(); {
	case futureWord(w):
		return true
	default:
		switch w {
		case "last", "yesterday", "recently", "then", "at", "like", "next", "soon", "when", "this":
			return true
		}
	}
	return false
}

// willBe reads the age someone is about to be, after "I" at i (token j
// on): "I'll be 12 on saturday", "I will be 14 next month", "ill be 12
// then". The age stated is the one before it.
func (p *ageParser) willBe(i, j int) (int, int, bool) {
	t := p.toks
	if p.blockedBefore(i) {
		return 0, 0, false
	}
	if t[i].is("i") {
		if j >= len(t) || !(t[j].is("will") || t[j].is("ll")) {
			return 0, 0, false
		}
		j++
	}
	if j >= len(t) || !t[j].is("be") || t[j].gap != gapSpace {
		return 0, 0, false
	}
	v, k := p.number(j + 1)
	if v < 6 || v > 99 {
		return 0, 0, false
	}
	k = p.yearsOld(k)
	if !p.continues(k) && !p.when(k) {
		return 0, 0, false
	}
	return v - 1, k, true
}

// starting reads a school year someone is about to start: "I start high
// school after summer", "I'm starting year 7 in september" (through
// afterFirstPerson), "I go into 8th grade next year". The age is the
// year's, less one.
func (p *ageParser) starting(i int) (int, int, bool) {
	t := p.toks
	j := i + 1
	if j >= len(t) || p.blockedBefore(i) {
		return 0, 0, false
	}
	switch t[j].word() {
	case "start", "starting", "begin", "beginning":
		j++
	case "go", "going", "move", "moving":
		j++
		if j < len(t) && (t[j].is("into") || t[j].is("up") || t[j].is("to")) {
			j++
		}
		if j < len(t) && (t[j].is("to") || t[j].is("into")) {
			j++
		}
	default:
		return 0, 0, false
	}
	age, end, ok := p.schoolThen(j)
	if !ok {
		return 0, 0, false
	}
	return age - 1, end, true
}

// schoolThen is school(j) that may be followed by a time ("high school
// after summer", "year 7 in september").
func (p *ageParser) schoolThen(j int) (int, int, bool) {
	if age, end, ok := p.school(j); ok {
		return age, end, true
	}
	// school() wants the clause to end after the year: accept a time too.
	t := p.toks
	for k := j + 1; k < len(t) && k <= j+3; k++ {
		if p.when(k) {
			saved := t[k].gap
			t[k].gap = gapPunct
			age, end, ok := p.school(j)
			t[k].gap = saved
			if ok {
				return age, end, true
			}
		}
	}
	return 0, 0, false
}

// myAge reads "my age is 15".
func (p *ageParser) myAge(i int) (int, int, bool) {
	t := p.toks
	if i+2 >= len(t) || !t[i+1].is("age") {
		return 0, 0, false
	}
	j := i + 2
	if t[j].is("is") || t[j].is("s") {
		j++
	}
	v, k := p.number(j)
	if v < 5 || v > 99 || !p.continues(k) {
		return 0, 0, false
	}
	return v, k, true
}

// initial reads a message that starts with an age: "13 f", "13yo", "13
// years old", "9th grade", "year 9"; and, as a reply, a bare "13".
func (p *ageParser) initial(reply bool) (int, int, bool) {
	t := p.toks
	if len(t) == 0 || t[0].gap != gapStart {
		return 0, 0, false
	}
	// An answer may open with a word or two of assent or denial ("nah 8th
	// grade", "yep year 7", "yeah 13"), read only as an answer.
	j := 0
	for reply && j < 2 && j+1 < len(t) && t[j+1].gap <= gapPunct && discourse(t[j].word()) {
		j++
	}
	if age, end, ok := p.school(j); ok {
		return age, end, true
	}
	// "starting 6th in september", "going into year 8" as an answer: the
	// school year about to start, less one.
	if w := t[j].word(); reply && (w == "starting" || w == "start" || w == "beginning" ||
		w == "going" && j+1 < len(t) && (t[j+1].is("into") || t[j+1].is("to"))) {
		k := j + 1
		if w == "going" {
			k++
		}
		if age, end, ok := p.schoolThen(k); ok {
			return age - 1, end, true
		}
	}
	// "turning 13 next month", "almost 12" as an answer: the age about to
	// come, less one.
	if w := t[j].word(); reply && (w == "turning" || w == "almost" || w == "nearly") {
		if v, k := p.number(j + 1); v >= 6 && v <= 99 && j+1 < len(t) && t[j+1].gap == gapSpace {
			if k = p.yearsOld(k); p.continues(k) || p.when(k) {
				return v - 1, k, true
			}
		}
		return 0, 0, false
	}
	if reply && t[j].digits && j+1 < len(t) && t[j+1].gap == gapGlued && ordinal(&t[j+1]) && p.continues(j+2) {
		// "6th" answering "what grade?"
		return p.grade(int(t[j].num)+5, j+2, int(t[j].num), 12)
	}
	if reply && t[j].year > 0 {
		// "2011", "2011, 14 in july": a year of birth answering the question.
		if age, ok := p.birthYear(j); ok && p.continues(j+1) {
			return age, j + 1, true
		}
		return 0, 0, false
	}
	v, k := p.number(j)
	if v < 8 || v > 99 {
		return 0, 0, false
	}
	if k < len(t) && (t[k].gap == gapGlued || t[k].gap == gapSpace || t[k].gap == gapSlash) && gender(&t[k]) {
		// "13 f uk": a place may follow, as a short code.
		if p.continues(k+1) || t[k+1].gap == gapSpace && t[k+1].n >= 2 && t[k+1].n <= 3 && !t[k+1].digits {
			return v, k + 1, true
		}
		return 0, 0, false
	}
	if y := p.yearsOld(k); y > k {
		if p.continues(y) {
			return v, y, true
		}
		return 0, 0, false
	}
	if !reply {
		return 0, 0, false
	}
	// A bare answer: nothing but allowed words may follow, up to the age
	// about to come ("11 but 12 in like 3 weeks").
	// Or up to the next age ("14 yeah, 15 in october"), the school year
	// that goes with it ("13, 8th grade"), when it began ("14 since
	// january") or the end of the sentence ("13. near chicago").
	for j := k; j < len(t); j++ {
		w := t[j].word()
		if t[j].gap == gapBreak || w == "since" {
			break
		}
		if (w == "but" || w == "turning" || w == "nearly" || w == "almost") && j+1 < len(t) && t[j+1].digits {
			break
		}
		if t[j].digits && t[j].gap != gapGlued {
			if next, _ := p.number(j); next == v+1 {
				break
			}
		}
		if _, _, ok := p.school(j); ok {
			break
		}
		if j == k && t[j].gap == gapSpace && clauseStart(w) {
			break // "10 its in my name lol", "12 i think"
		}
		if !allowedAfter(w) {
			return 0, 0, false
		}
	}
	return v, k, true
}

// school reads a school year from token j on: "8th grade", "grade 8",
// "year 9", "yr 9", "middle school", "high school".
func (p *ageParser) school(j int) (int, int, bool) {
	t := p.toks
	if j < len(t) && t[j].is("the") {
		j++
	}
	if j >= len(t) {
		return 0, 0, false
	}
	switch {
	case t[j].digits && j+1 < len(t) && t[j+1].gap == gapGlued && ordinal(&t[j+1]):
		// "8th grade", or "8th" alone after "in"
		k := j + 2
		if k < len(t) && t[k].gap == gapSpace && t[k].is("grade") {
			k++
		} else if j == 0 {
			return 0, 0, false // "8th" alone at the start is a place, not a grade
		}
		return p.grade(int(t[j].num)+5, k, int(t[j].num), 12)
	case t[j].is("grade") && j+1 < len(t) && t[j+1].digits:
		return p.grade(int(t[j+1].num)+5, j+2, int(t[j+1].num), 12)
	case (t[j].is("year") || t[j].is("yr")) && j+1 < len(t) && t[j+1].digits && t[j+1].gap <= gapSpace:
		return p.grade(int(t[j+1].num)+4, j+2, int(t[j+1].num), 13)
	case j+1 < len(t) && t[j+1].is("school") && t[j+1].gap == gapSpace:
		age := 0
		switch t[j].word() {
		case "middle":
			age = 12
		case "high":
			age = 15
		case "primary", "elementary":
			age = 9
		case "secondary":
			age = 13
		}
		if age > 0 && j > 0 && p.continues(j+2) { // "I'm in high school", not "high school was fun"
			return age, j + 2, true
		}
	case t[j].is("junior") && j+1 < len(t) && t[j+1].is("high") && j > 0:
		if p.continues(j + 2) {
			return 13, j + 2, true
		}
	}
	return 0, 0, false
}

// grade checks a school year n (1..max) read up to token k and returns the
// age it means.
func (p *ageParser) grade(age, k, n, max int) (int, int, bool) {
	if n < 1 || n > max || !p.continues(k) {
		return 0, 0, false
	}
	return age, k, true
}

// number reads a number at token j: one or two digits, or number words
// ("thirteen", "twenty five", "twenty-five"). It returns -1 when there is
// none, and the index after it.
func (p *ageParser) number(j int) (int, int) {
	t := p.toks
	if j >= len(t) || t[j].num < 0 {
		return -1, j
	}
	if t[j].digits {
		return int(t[j].num), j + 1
	}
	v := int(t[j].num)
	if v >= 20 && v%10 == 0 && j+1 < len(t) && (t[j+1].gap == gapSpace || t[j+1].gap == gapHyphen) &&
		!t[j+1].digits && t[j+1].num > 0 && t[j+1].num < 10 {
		return v + int(t[j+1].num), j + 2
	}
	return v, j + 1
}

// yearsOld skips "years old", "yrs old", "year old", "yo", "y/o" after a
// number at k, returning the index after it (k when there is none).
func (p *ageParser) yearsOld(k int) int {
	t := p.toks
	if k >= len(t) || t[k].gap > gapSpace {
		return k
	}
	switch t[k].word() {
	case "yo", "yrs", "yr", "years", "year":
		if k+1 < len(t) && t[k+1].gap == gapSpace && t[k+1].is("old") {
			return k + 2
		}
		if t[k].is("yo") || t[k].is("yrs") {
			return k + 1
		}
	case "y":
		if k+1 < len(t) && t[k+1].gap == gapSlash && t[k+1].is("o") {
			return k + 2
		}
	}
	return k
}

// continues reports whether what follows token k-1 lets the number before
// it be an age: the end of the message, the end of a clause, or an
// allowed word.
func (p *ageParser) continues(k int) bool {
	t := p.toks
	if k >= len(t) {
		return true
	}
	switch t[k].gap {
	case gapBreak, gapPunct:
		return true
	case gapSpace:
		return allowedAfter(t[k].word())
	case gapSlash:
		return !t[k].digits // "13/f/uk", not "13/14"
	case gapGlued:
		return gender(&t[k])
	}
	return false
}

// allowedAfter lists the words that may follow a stated age.
func allowedAfter(w string) bool {
	switch w {
	case "and", "but", "so", "too", "also", "btw", "tbh", "lol", "lmao", "haha", "hahaha", "hehe", "xd", "x", "xx",
		"u", "you", "ur", "hbu", "wbu", "wby", "hby", "now", "rn", "atm", "already", "turning", "going", "almost",
		"nearly", "soon", "next", "f", "m", "girl", "boy", "male", "female", "from", "though", "tho", "actually",
		"ok", "okay", "yeah", "yes", "yep", "no", "why", "what", "how", "lmk", "plus", "idk", "omg", "ty", "here",
		"not": // "im actually 21 not 16"
		return true
	}
	return false
}

// findYou returns the age the sender states of the person they write to
// ("ur 13 not 5", "you're only 12 lol"), in the message find read last;
// a question ("you're 13?") is not a statement.
func (p *ageParser) findYou(s string) (disclosure, bool) {
	t := p.toks
	for i := range t {
		j := i + 1
		switch {
		case t[i].is("ur") || t[i].is("youre"):
		case (t[i].is("you") || t[i].is("u")) && j < len(t) && (t[j].is("are") || t[j].is("r")) && t[j].gap == gapSpace:
			j++
		default:
			continue
		}
		if p.blockedBefore(i) {
			continue
		}
		for j < len(t) && t[j].gap == gapSpace && hedge(t[j].word()) {
			j++
		}
		if j >= len(t) || t[j].gap != gapSpace || !t[j].digits {
			continue
		}
		v, k := p.number(j)
		if v < 5 || v > 17 {
			continue // only a minor's age changes how the conversation reads
		}
		k = p.yearsOld(k)
		if !p.continues(k) {
			continue
		}
		end := int(t[k-1].end)
		if q := nextByte(s, end); q == '?' {
			continue
		}
		return disclosure{age: v, start: int(t[i].start), end: end}, true
	}
	return disclosure{}, false
}

// hedge lists the words that may stand between "I'm" or "you're" and an
// age without changing it ("im only 12", "ur literally 13").
func hedge(w string) bool {
	switch w {
	case "only", "just", "like", "literally", "actually", "already", "almost", "nearly", "currently", "really", "barely":
		return true
	}
	return false
}

// nextByte returns the first byte after s[i:] spaces, or 0.
func nextByte(s string, i int) byte {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i < len(s) {
		return s[i]
	}
	return 0
}

// clauseStart lists words that begin a new clause right after a bare
// answer: a subject, not a unit ("10 its in my name", not "10 minutes").
func clauseStart(w string) bool {
	switch w {
	case "i", "im", "its", "it", "my", "thats", "cuz", "because", "bc", "coz":
		return true
	}
	return false
}

// birthYear reads the year of birth at token j as an age in year p.now:
// the younger of the two it can mean, since the birthday may be to come.
func (p *ageParser) birthYear(j int) (int, bool) {
	y := int(p.toks[j].year)
	if y == 0 || p.now == 0 {
		return 0, false
	}
	age := p.now - y - 1
	return age, age >= 5 && age <= 99
}

// born reads "born in 2011", "I was born 2012" at token i ("born"): the
// speaker's own birth, said with "I was" or at the start.
func (p *ageParser) born(i int) (int, int, bool) {
	t := p.toks
	self := i == 0 || i >= 2 && t[i-1].is("was") && t[i-2].is("i") || i >= 1 && t[i-1].is("im")
	j := i + 1
	if j < len(t) && (t[j].is("in") || t[j].is("on")) {
		j++
	}
	if !self || j >= len(t) || t[j].year == 0 || t[j].gap > gapSpace {
		return 0, 0, false
	}
	age, ok := p.birthYear(j)
	if !ok || !p.continues(j+1) && !p.when(j+1) {
		return 0, 0, false
	}
	return age, j + 1, true
}

// discourse lists the words of assent or denial an answer may open with.
func discourse(w string) bool {
	switch w {
	case "yeah", "yea", "ya", "yah", "yep", "yup", "yes", "nah", "no", "nope", "um", "umm", "uh", "well", "lol", "haha", "ok", "okay", "oh", "mm", "hmm":
		return true
	}
	return false
}

func gender(t *token) bool {
	switch t.word() {
	case "f", "m", "female", "male", "girl", "boy":
		return true
	}
	return false
}

func ordinal(t *token) bool {
	switch t.word() {
	case "th", "st", "nd", "rd":
		return true
	}
	return false
}

// asksBack reports whether the tokens from k on ask the age back: "wbu",
// "hbu", "and you", "u?".
func (p *ageParser) asksBack(k int) bool {
	t := p.toks
	for j := k; j < len(t); j++ {
		switch t[j].word() {
		case "hbu", "wbu", "wby", "hby":
			return true
		case "u", "you":
			if j == len(t)-1 || t[j+1].gap == gapBreak {
				return true
			}
		}
	}
	return false
}

// numberWords are the values of number words.
var numberWords = map[string]int16{
	"five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
	"thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
	"nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
	"eighty": 80, "ninety": 90, "one": 1, "two": 2, "three": 3, "four": 4,
}

// ageHintWords are the words the matcher looks for (besides digits) before
// the age parser runs: number words and school names.
func ageHintWords() []string {
	out := make([]string, 0, len(numberWords)+6)
	for w, v := range numberWords {
		if v >= 5 {
			out = append(out, w)
		}
	}
	return append(out, "middle school", "high school", "primary school", "elementary school", "secondary school", "junior high")
}

// tokenize splits s into tokens (at most maxAgeTokens).
func (p *ageParser) tokenize(s string) {
	p.toks = p.toks[:0]
	prevEnd := 0
	for i := 0; i < len(s) && len(p.toks) < maxAgeTokens; {
		c := s[i]
		if !isAlnum(c) {
			if c < utf8.RuneSelf {
				i++
			} else {
				_, size := utf8.DecodeRuneInString(s[i:])
				i += size
			}
			continue
		}
		start := i
		tok := token{start: int32(i), num: -1}
		tok.gap = classifyGap(s, prevEnd, start, len(p.toks) == 0)
		if isDigitByte(c) {
			v := 0
			for i < len(s) && isDigitByte(s[i]) {
				if v < 1000 {
					v = v*10 + int(s[i]-'0')
				}
				i++
			}
			tok.digits = true
			if i-start <= 2 {
				tok.num = int16(v)
			} else if i-start == 4 && v >= 1900 && v <= 2099 {
				tok.year = int16(v)
			}
		} else {
			for i < len(s) {
				b := s[i]
				switch {
				case isLetterByte(b):
					if tok.n < maxKey {
						tok.key[tok.n] = b | 0x20
						tok.n++
					} else {
						tok.n = maxKey + 1
					}
					i++
					continue
				case b == '\'' && i+1 < len(s) && isLetterByte(s[i+1]) && i > start:
					i++
					continue
				case b == 0xE2 && i+3 < len(s) && s[i+1] == 0x80 && s[i+2] == 0x99 && isLetterByte(s[i+3]) && i > start: // ’
					i += 3
					continue
				}
				break
			}
			if v, ok := numberWords[tok.word()]; ok {
				tok.num = v
			}
		}
		tok.end = int32(i)
		prevEnd = i
		p.toks = append(p.toks, tok)
	}
}

// classifyGap says what lies between two tokens: s[from:to]. For the
// first token (first set), it says whether anything but spaces comes
// before it.
func classifyGap(s string, from, to int, first bool) uint8 {
	g := s[from:to]
	if first {
		for i := 0; i < len(g); i++ {
			if g[i] != ' ' && g[i] != '\t' && g[i] != '\n' && g[i] != '\r' {
				return gapPunct
			}
		}
		return gapStart
	}
	switch {
	case len(g) == 0:
		return gapGlued
	case g == "-":
		return gapHyphen
	case len(g) == 1 && isDigitByte(s[from-1]) && isDigitByte(s[to]) && g != "/":
		return gapBad // 12.5, 1,000, 19:30, 6'2, 5-0
	case g[0] == '%' && isDigitByte(s[from-1]):
		return gapBad // 100%
	}
	class := gapSpace
	for i := 0; i < len(g); i++ {
		switch g[i] {
		case ' ', '\t':
		case '.', '!', '?', ';', '\n', '\r':
			class = max(class, gapBreak)
		case '/':
			class = max(class, gapSlash)
		default:
			// a comma, an emoji, a closing bracket, an emoticon: the end of
			// a clause
			class = max(class, gapPunct)
		}
	}
	return class
}

func isDigitByte(c byte) bool  { return c >= '0' && c <= '9' }
func isLetterByte(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isAlnum(c byte) bool      { return isDigitByte(c) || isLetterByte(c) }
