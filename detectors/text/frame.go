package text

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Frames recognise a kind of sentence however it is worded: a frame is a
// short sequence of slots, each a set of words, with a bounded number of
// other words allowed between them. "{negation} ~1 {tell} ~3 {guardian}"
// reads "don't tell your mum", "never ever tell ur parents", "you can't
// tell your dad about this"; "{offer} ~1 {fetch} ~2 you" reads "I'll come
// get you", "I could pick u up", "let me collect you".
//
// A slot is written as one of:
//
//	word        the word itself (in the normal form, apostrophes optional)
//	verb+       the verb and its inflections: tell+ is tell, tells,
//	            telling, told (Inflections)
//	{class}     any word of a class of Classes (negation, tell, guardian, …)
//	{number}    any number: digits, with . or , between digit groups and
//	            an optional k, m, mn, b or bn ("250", "1,200", "4.2m", "5k")
//	{amount}    a number that is a sum of money: written next to a
//	            currency sign ("$100", "£1,200", "100€") or followed by a
//	            word of the class currency ("500 usdt", "0.05 btc")
//	a|b|{c}     any of the alternatives: words (each may carry its own +)
//	            and classes
//	slot?       the slot may be left out
//
// and may be preceded by ~N: up to N other words between the previous slot
// and this one (default 0: adjacent). Words of the class "filler"
// (intensifiers and quantifiers: "both", "every", "fucking", "really") are
// not counted in a gap, up to maxFillers of them in a frame: "break ~0
// {your} ~1 {injured}" reads "break both your legs" and "smash every
// fucking window". A frame that starts with ^ matches
// only from the first word of the text, one that starts with < only from
// the first word of a sentence ("< gonna ~3 {harmverb}": the subject left
// out), one that ends with $ only up to
// its last; a frame between both may have a single slot ("^ {kin} $": a
// text that is only "mum"). Slots never match across a sentence
// end (. ! ? ; or a line break). Frames run on the normal form of
// detectors/text, so they read through disguises as phrases do, and on
// chat spellings through the classes ("u", "ur" are in {you}, {your}).

// Classes are the word classes that frames of every detector share: the
// pieces from which stages of grooming, threats of harassment and the like
// are composed. A word may end in + for its inflections. Read-only.
var Classes = map[string][]string{
	// Grammar.
	"negation": {"not", "never", "dont", "doesnt", "didnt", "cant", "cannot", "wont", "wouldnt", "shouldnt",
		"mustnt", "musnt", "nobody", "noone", "nothing", "neither", "nor", "isnt", "arent", "aint", "without", "dnt"},
	"nobody":     {"nobody", "noone", "nobodys", "none"},
	"you":        {"you", "u", "ya", "yall", "ye"},
	"youre":      {"youre", "youll", "youd", "youve", "ure", "ull", "ud", "yall"},
	"your":       {"your", "ur", "yr", "yer", "youre"},
	"i":          {"i", "im", "ill", "id", "ive", "me", "we", "well", "us", "lemme"},
	"modal":      {"will", "ll", "would", "could", "can", "might", "should", "gonna", "going", "shall", "wanna", "want+", "gotta"},
	"offer":      {"ill", "i'll", "id", "could", "can", "lemme", "let", "will", "would", "gonna", "going", "happy", "want+", "wanna", "offer+", "promise+"},
	"determiner": {"the", "this", "that", "these", "those", "a", "an", "my", "your", "ur", "our", "his", "her", "their", "some", "any", "it"},
	// Praise: what a compliment calls a person.
	"praise": {"pretty", "cute", "beautiful", "gorgeous", "stunning", "talented", "gifted", "special", "amazing", "brilliant",
		"mature", "smart", "clever", "perfect", "lovely", "incredible", "awesome", "cool", "funny", "sweet", "adorable", "wise",
		"unique", "impressive", "grown", "advanced", "ahead", "natural", "genius"},
	// Where a conversation happens, and who watches it there.
	"venue":    {"app", "apps", "chat", "chats", "account", "server", "platform", "site", "forum", "group", "game", "channel", "one", "dms", "profile"},
	"watchers": {"mods", "moderators", "mod", "admins", "admin", "staff", "boss", "owners", "teachers", "parents", "everyone", "people", "company", "studio", "school"},
	// Who: the people a secret is kept from.
	"guardian": {"mum", "mom", "mummy", "mommy", "mam", "ma", "mother", "dad", "daddy", "father", "papa", "pa",
		"parent", "parents", "folks", "stepmum", "stepmom", "stepdad", "family", "guardian", "guardians",
		"carer", "carers", "teacher", "teachers", "sister", "brother", "sis", "bro", "siblings", "aunt", "auntie",
		"uncle", "nan", "nana", "gran", "granny", "grandma", "grandpa", "friends", "mates", "bestie", "police", "cops",
		"counsellor", "counselor", "anyone", "anybody", "everyone", "everybody", "someone", "people", "adults", "grownups"},
	// Family: what relatives call each other. Not "bro", "sis" or "cuz",
	// which players and friends call anyone ("ok lil bro").
	"kin": {"mum", "mom", "mummy", "mommy", "mam", "dad", "daddy", "nan", "nana", "nanna", "gran", "granny", "grandma", "grandpa",
		"grandad", "granddad", "auntie", "aunty", "aunt", "uncle", "stepmum", "stepmom", "stepdad"},
	"anyone": {"anyone", "anybody", "everyone", "everybody", "someone", "somebody", "one", "people", "soul"},
	// Verbs of telling, knowing and seeing: what a secret stops.
	"tell":   {"tell+", "say+", "mention+", "show+", "talk+", "speak+", "share+", "bring+", "breathe+", "report+", "snitch+", "text+", "message+"},
	"know":   {"know+", "find+", "hear+", "learn+", "see+", "notice+", "realise+", "realize+", "check+", "read+", "catch+", "suspect+", "wonder+"},
	"hide":   {"delete+", "hide+", "clear+", "erase+", "wipe+", "remove+", "lock+", "archive+", "unsend+"},
	"keep":   {"keep+", "stay+", "remain+", "leave+"},
	"chat":   {"chat", "chats", "messages", "message", "msgs", "texts", "convo", "conversation", "history", "dms", "dm", "pics", "photos", "app", "account", "this", "it", "these"},
	"secret": {"secret", "secrets", "secretly", "private", "privately", "quiet", "hush", "hushhush", "confidential", "lowkey", "discreet", "hidden", "ours"},
	// Offers: what may be given, and how.
	"give": {"buy+", "get+", "send+", "give+", "pay+", "gift+", "treat+", "transfer+", "venmo+", "paypal+", "top+", "load+", "order+", "spoil+"},
	// currency: the words after a number that make it a sum of money
	// ({amount}).
	"currency": {"usd", "usdt", "usdc", "dollar", "dollars", "bucks", "pound", "pounds", "quid", "gbp", "euro", "euros", "eur",
		"btc", "bitcoin", "bitcoins", "eth", "ether", "naira", "rupees", "inr", "cad", "aud", "grand"},
	"present": {"present", "presents", "gift", "gifts", "giftcard", "giftcards", "card", "voucher", "money", "cash", "quid", "bucks", "dollars", "pounds",
		"vbucks", "robux", "skins", "skin", "credit", "credits", "coins", "gems", "ticket", "tickets", "phone", "iphone", "airpods", "console", "clothes",
		"outfit", "trainers", "sneakers", "makeup", "something", "anything", "whatever", "allowance", "treat"},
	// Meeting: coming to fetch, visiting, meeting somewhere.
	"fetch": {"pick+", "collect+", "fetch+", "get+", "drive+", "come+", "visit+", "meet+", "see+", "take+", "grab+", "walk+", "bring+", "wait+", "find+", "hang+", "hangout", "stop+", "swing+", "pop+"},
	"meet":  {"meet+", "meetup", "hang+", "hangout", "visit+", "see+", "come+", "pick+", "link+", "chill+"},
	"place": {"school", "park", "mall", "station", "house", "home", "place", "flat", "apartment", "hotel", "car", "cinema", "movies", "shop", "corner", "library", "beach", "bus", "stop", "gate", "outside", "town", "mine", "yours", "somewhere", "room", "yard", "stables", "club", "gym", "pitch", "rink", "pool", "field", "studio", "court", "arena", "practice", "training", "lesson", "lessons", "street", "area", "door"},
	"alone": {"alone", "yourself", "urself", "only", "just", "solo", "private", "privately", "nobody", "noone"},
	// Photos: a picture of someone, and what is in it.
	"send":    {"send+", "show+", "snap+", "take+", "share+", "post+", "dm+", "give+", "get+", "see+", "upload+", "film+", "record+", "flash+", "want+", "wanna"},
	"picture": {"pic", "pics", "picture", "pictures", "photo", "photos", "selfie", "selfies", "pix", "snap", "snaps", "video", "vid", "vids", "clip", "shot", "shots", "image", "facetime", "cam", "webcam", "camera", "look", "nude", "nudes", "noods"},
	"body":    {"body", "bodies", "legs", "leg", "chest", "tummy", "belly", "stomach", "waist", "hips", "bum", "butt", "figure", "shape", "skin", "feet", "face", "lips", "mirror", "bed", "bathroom", "shower", "bath", "bedroom", "room"},
	"clothing": {"pyjamas", "pajamas", "pjs", "nightie", "nightdress", "underwear", "undies", "bra", "swimsuit", "bikini", "swimwear", "shorts", "skirt", "dress",
		"towel", "uniform", "leotard", "tights", "top", "crop", "clothes", "outfit", "wearing", "wear", "dressed", "undressed", "changing", "changed", "nothing"},

	// Fillers: words a frame's gap does not count (see above). Never a
	// negation, a pronoun or a verb: they do not change who does what.
	"filler": {"both", "every", "all", "each", "whole", "entire", "fucking", "fuckin", "fking", "fkn", "fcking", "effing", "freaking",
		"frickin", "fricking", "bloody", "damn", "goddamn", "really", "rly", "literally", "totally", "so", "just", "actually",
		"honestly", "seriously", "even", "ever", "little", "lil", "stupid", "ugly", "fat", "dumb", "pathetic", "sorry", "worthless"},

	// Threats: who acts, what they do, to what.
	"future": {"will", "ll", "gonna", "gon", "going", "shall", "finna", "would", "d", "bout", "about", "gunna", "boutta", "abouta", "tryna"},
	"me":     {"i", "im", "ill", "id", "imma", "ima", "iam", "ive", "ma", "we", "were", "wed"},
	"harmverb": {"kill+", "murder+", "stab+", "shoot+", "hurt+", "punch+", "slit+", "strangle+", "choke+", "drown+", "slap+", "gut+", "knife+",
		"lynch+", "behead+", "smack+", "merk+", "rape+", "torture+", "maim+", "cripple+", "poison+", "bash+", "batter+", "whack+", "deck+", "headbutt+", "suffocate+"},
	"injure": {"kill+", "murder+", "stab+", "shoot+", "hurt+", "punch+", "slit+", "strangle+", "choke+", "slap+", "smack+", "bash+", "batter+", "break+",
		"smash+", "snap+", "cut+", "burn+", "torch+", "rip+", "crush+", "kick+", "beat+", "cave+", "bust+", "fracture+", "split+", "bleed+", "gouge+", "poison+", "rape+"},
	"victim": {"you", "u", "ya", "yu", "yourself", "urself", "him", "her", "them", "yall", "youll", "youd", "youre", "ull", "ud"},
	"injured": {"face", "jaw", "neck", "head", "skull", "nose", "teeth", "legs", "leg", "arms", "arm", "throat", "ribs", "kneecaps", "knees", "fingers", "hands", "eyes", "spine", "ass", "bones",
		"house", "houses", "car", "cars", "windows", "family", "mom", "mum", "dad", "sister", "brother", "kids", "dog"},
	"grave": {"hospital", "ditch", "grave", "morgue", "coffin", "wheelchair", "ground", "river", "trunk", "icu", "ambulance", "casket", "bodybag", "cemetery", "dirt", "er"},
	"dead":  {"dead", "deceased", "finished", "toast", "history", "buried", "gone"},
	// Exposure: publishing what is private.
	"expose": {"post+", "leak+", "share+", "send+", "publish+", "dox+", "doxx+", "expose+", "spread+", "forward+", "upload+", "release+", "drop+", "put+", "show+", "out+", "broadcast+", "text+", "email+", "blast+", "plaster+", "screenshot+"},
	"private": {"address", "addy", "number", "phone", "ip", "name", "location", "school", "workplace", "job", "work", "details", "info", "information", "pics", "pictures",
		"photos", "nudes", "dox", "doxx", "screenshots", "messages", "dms", "texts", "chats", "secrets", "face", "house", "home", "socials", "insta", "snap", "password", "passwords", "id", "schedule"},
	"public": {"public", "online", "everywhere", "everyone", "everybody", "internet", "forum", "forums", "wall", "walls", "twitter", "reddit", "facebook", "insta", "instagram", "tiktok", "discord", "group", "groupchat", "gc", "school", "boss", "employer", "mom", "mum", "parents", "contacts", "friends", "family", "world", "town", "story", "stories", "feed", "timeline", "page", "channel", "followers", "subreddit", "youtube", "twitch", "snapchat", "whatsapp", "thread", "linkedin", "church", "work", "office", "hr"},
	// Who hears of it: the people a threat to expose names.
	"audience": {"boss", "manager", "employer", "hr", "work", "office", "job", "coworkers", "colleagues", "parents", "mom", "mum", "dad", "family",
		"wife", "husband", "gf", "bf", "girlfriend", "boyfriend", "partner", "ex", "teacher", "teachers", "principal", "school", "uni", "college",
		"class", "classmates", "church", "team", "friends", "followers", "contacts", "server", "group", "page", "kids", "landlord", "neighbours", "neighbors", "pastor", "priest", "imam", "rabbi", "mosque", "temple", "congregation", "coach", "university", "subscribers", "mutuals", "fans", "students", "pupils", "clients", "customers", "dean", "headteacher"},
	// Animals a degrading comparison likens a person to.
	"beast": {"pig", "pigs", "dog", "dogs", "rat", "rats", "cow", "cows", "stray", "animal", "animals", "worm", "worms", "cockroach", "roach", "slug", "leech",
		"parasite", "monkey", "ape", "donkey", "goat", "mutt", "mongrel", "hog", "swine", "vermin", "maggot", "maggots", "insect", "bug", "snake", "weasel"},
	// Hate: groups, and what is said of them.
	"groupnoun": {"immigrants", "migrants", "refugees", "foreigners", "muslims", "jews", "christians", "hindus", "sikhs", "blacks", "asians",
		"mexicans", "pakistanis", "arabs", "africans", "indians", "gays", "lesbians", "queers", "transgenders",
		"women", "females", "disabled", "cripples", "autistics", "gypsies", "latinos", "latinas", "whites", "catholics", "atheists", "feminists"},
	"groupadj": {"black", "white", "brown", "asian", "mexican", "muslim", "jewish", "christian", "hindu", "chinese", "indian", "arab", "african",
		"gay", "lesbian", "trans", "transgender", "queer", "disabled", "autistic", "foreign", "immigrant", "latino", "pakistani", "polish", "romanian", "gypsy", "fat", "ugly", "deaf", "blind", "retarded", "jew", "romani", "roma", "irish", "nigerian", "somali", "syrian", "afghan", "ukrainian", "russian", "bi", "nonbinary", "paki"},
	"groupone": {"jew", "muslim", "woman", "immigrant", "mexican", "asian", "black", "gay", "arab", "indian", "gypsy", "female", "foreigner", "migrant"},
	"vile": {"criminals", "terrorists", "animals", "savages", "vermin", "parasites", "rats", "cockroaches", "disgusting", "filthy", "dirty", "subhuman", "inferior", "stupid", "freaks",
		"ill", "sick", "diseased", "burden", "burdens", "trash", "garbage", "scum", "evil", "ruining", "ruin", "destroying", "invading", "infesting", "breeding", "thieves", "liars",
		"rapists", "monsters", "degenerates", "abominations", "unnatural", "retarded", "useless", "worthless", "dangerous", "pests", "plague", "cancer", "filth", "leeches", "greedy",
		"dumb", "lazy", "deported", "gassed", "exterminated", "wiped", "banned", "shot", "hanged", "sterilised", "sterilized", "die", "disappear", "belong", "allowed", "loud", "smell", "stink", "diseases", "disease", "germs", "freak", "cockroach", "infestation", "scroungers", "leeching", "beggars", "backwards", "primitive", "savage", "nuisance", "drain"},
	// Self-harm incitement: what the reader is told to do to themselves.
	"selfharm": {"die", "jump", "hang", "overdose", "od", "drown", "disappear", "vanish", "cut", "slit", "unalive", "off", "end", "exist", "existing", "breathing", "living", "bleach", "rope", "noose"},
}

// irregular are the irregular English verbs of the classes, with their
// inflected forms (third person, past, participle, gerund).
var irregular = map[string][]string{
	"tell": {"tells", "told", "telling"}, "say": {"says", "said", "saying"}, "know": {"knows", "knew", "known", "knowing"},
	"find": {"finds", "found", "finding"}, "hear": {"hears", "heard", "hearing"}, "see": {"sees", "saw", "seen", "seeing"},
	"get": {"gets", "got", "gotten", "getting"}, "buy": {"buys", "bought", "buying"}, "send": {"sends", "sent", "sending"},
	"give": {"gives", "gave", "given", "giving"}, "pay": {"pays", "paid", "paying"}, "come": {"comes", "came", "coming"},
	"take": {"takes", "took", "taken", "taking"}, "drive": {"drives", "drove", "driven", "driving"}, "bring": {"brings", "brought", "bringing"},
	"meet": {"meets", "met", "meeting"}, "keep": {"keeps", "kept", "keeping"}, "leave": {"leaves", "left", "leaving"},
	"speak": {"speaks", "spoke", "spoken", "speaking"}, "hide": {"hides", "hid", "hidden", "hiding"}, "read": {"reads", "reading"},
	"catch": {"catches", "caught", "catching"}, "learn": {"learns", "learnt", "learned", "learning"}, "understand": {"understands", "understood", "understanding"},
	"show": {"shows", "showed", "shown", "showing"}, "hang": {"hangs", "hung", "hanged", "hanging"}, "swing": {"swings", "swung", "swinging"},
	"want": {"wants", "wanted", "wanting"}, "film": {"films", "filmed", "filming"}, "grab": {"grabs", "grabbed", "grabbing"},
	"stop": {"stops", "stopped", "stopping"}, "pop": {"pops", "popped", "popping"}, "top": {"tops", "topped", "topping"},
	"chat": {"chats", "chatted", "chatting"}, "dm": {"dms", "dmed", "dmd", "dming", "dmming"}, "snap": {"snaps", "snapped", "snapping"},
	"flash": {"flashes", "flashed", "flashing"}, "text": {"texts", "texted", "texting"},
}

// Inflections returns a verb's forms: the verb, its third person, past,
// participle and gerund, from the irregular table or by the regular rules
// (tells, talked, talking; deleted, deleting; stopped, stopping).
func Inflections(verb string) []string {
	if forms, ok := irregular[verb]; ok {
		return append([]string{verb}, forms...)
	}
	out := []string{verb}
	n := len(verb)
	if n == 0 {
		return out
	}
	last := verb[n-1]
	switch {
	case strings.HasSuffix(verb, "e"):
		out = append(out, verb+"s", verb+"d", verb[:n-1]+"ing")
	case strings.HasSuffix(verb, "y") && n > 1 && !strings.ContainsRune("aeiou", rune(verb[n-2])):
		out = append(out, verb[:n-1]+"ies", verb[:n-1]+"ied", verb+"ing")
	case strings.HasSuffix(verb, "s") || strings.HasSuffix(verb, "sh") || strings.HasSuffix(verb, "ch") || strings.HasSuffix(verb, "x"):
		out = append(out, verb+"es", verb+"ed", verb+"ing")
	default:
		out = append(out, verb+"s", verb+"ed", verb+"ing")
		if n >= 3 && !isVowel(last) && last != 'w' && last != 'x' && last != 'y' && isVowel(verb[n-2]) && !isVowel(verb[n-3]) && n <= 4 {
			out = append(out, verb+string(last)+"ed", verb+string(last)+"ing")
		}
	}
	return out
}

func isVowel(c byte) bool { return strings.IndexByte("aeiou", c) >= 0 }

// frameSlot is one slot of a compiled frame.
type frameSlot struct {
	set      uint16 // index into FrameSet.sets
	gap      uint8  // other words allowed before it (0 for the first slot)
	optional bool
}

// frame is a compiled frame: its slots, and whether it must start at the
// first word of the text (^) or end at its last ($).
type frame struct {
	slots                      []frameSlot
	atStart, atSentence, atEnd bool
}

// FrameSet is a compiled set of frames. It is immutable and safe for
// concurrent use; matching needs a FrameScratch per goroutine.
type FrameSet struct {
	frames []frame
	specs  []string
	sets   int
	filler uint16    // the set of the filler class's words
	words  wordTable // word -> the sets it is in, ascending
	starts [][]int32 // set -> frames whose first slot it is
	// number and amount are the sets of a number that is not a word of
	// the table, and of one that is a sum of money ({number} and {amount}
	// slots; amount includes number's).
	number, amount []uint16
}

// Keys of the shape classes in a slot's words: '#' is in no frame word.
const (
	numberKey = "#number"
	amountKey = "#amount"
)

// MaxFrameSlots and MaxFrameGap bound a frame; maxFillers bounds the
// fillers one frame passes over without counting them.
const (
	MaxFrameSlots = 8
	MaxFrameGap   = 6
	maxFillers    = 3
)

// CompileFrames compiles frame specs (see the package documentation of
// frames above). Errors name the frame and the slot.
func CompileFrames(specs []string) (*FrameSet, error) {
	fs := &FrameSet{}
	words := map[string][]uint16{}
	setOf := map[string]uint16{}
	fs.filler = 0
	fs.sets = 1
	fs.starts = append(fs.starts, nil)
	for _, w := range Classes["filler"] {
		words[frameKey(w)] = append(words[frameKey(w)], fs.filler)
	}
	for _, spec := range specs {
		fields := strings.Fields(spec)
		var fr frame
		if len(fields) > 0 && fields[0] == "^" {
			fr.atStart, fields = true, fields[1:]
		} else if len(fields) > 0 && fields[0] == "<" {
			fr.atSentence, fields = true, fields[1:]
		}
		if len(fields) > 0 && fields[len(fields)-1] == "$" {
			fr.atEnd, fields = true, fields[:len(fields)-1]
		}
		var slots []frameSlot
		gap := 0
		for _, f := range fields {
			if strings.HasPrefix(f, "~") {
				n, err := strconv.Atoi(f[1:])
				if err != nil || n < 0 || n > MaxFrameGap {
					return nil, fmt.Errorf("frame %q: gap %q: want ~0 to ~%d", spec, f, MaxFrameGap)
				}
				gap = n
				continue
			}
			if f == "^" || f == "<" || f == "$" {
				return nil, fmt.Errorf("frame %q: ^ and < only first, $ only last", spec)
			}
			optional := strings.HasSuffix(f, "?")
			f = strings.TrimSuffix(f, "?")
			slot, err := slotWords(f)
			if err != nil {
				return nil, fmt.Errorf("frame %q: slot %q: %w", spec, f, err)
			}
			key := strings.Join(slot, " ")
			id, ok := setOf[key]
			if !ok {
				if fs.sets == 1<<16-1 {
					return nil, fmt.Errorf("frame %q: too many distinct slots", spec)
				}
				id = uint16(fs.sets)
				fs.sets++
				setOf[key] = id
				fs.starts = append(fs.starts, nil)
				for _, w := range slot {
					words[w] = append(words[w], id)
				}
			}
			if len(slots) == 0 && gap > 0 {
				return nil, fmt.Errorf("frame %q: a gap before the first slot", spec)
			}
			slots = append(slots, frameSlot{set: id, gap: uint8(gap), optional: optional})
			gap = 0
		}
		switch {
		case len(slots) == 0 || len(slots) == 1 && !(fr.atStart && fr.atEnd):
			return nil, fmt.Errorf("frame %q: want at least 2 slots (or one between ^ and $: the whole text)", spec)
		case len(slots) > MaxFrameSlots:
			return nil, fmt.Errorf("frame %q: %d slots, at most %d", spec, len(slots), MaxFrameSlots)
		case slots[0].optional || slots[len(slots)-1].optional:
			return nil, fmt.Errorf("frame %q: the first and last slots cannot be optional", spec)
		}
		fr.slots = slots
		frame := fr
		fi := len(fs.frames)
		fs.frames = append(fs.frames, frame)
		fs.specs = append(fs.specs, spec)
		fs.starts[frame.slots[0].set] = append(fs.starts[frame.slots[0].set], int32(fi))
	}
	for w, ids := range words {
		slices.Sort(ids)
		words[w] = slices.Compact(ids)
	}
	fs.number = words[numberKey]
	fs.amount = setUnion(fs.number, words[amountKey])
	delete(words, numberKey)
	delete(words, amountKey)
	// A number written in a frame ("16") is also a {number} and, next to
	// a currency, an {amount}: its table entry holds those sets too.
	money := map[string][]uint16{}
	for w, ids := range words {
		if numeric([]byte(w)) {
			words[w] = setUnion(ids, fs.number)
			money[w] = setUnion(ids, fs.amount)
		}
	}
	fs.words = newWordTable(words, money)
	return fs, nil
}

// setUnion returns the ascending union of two ascending sets.
func setUnion(a, b []uint16) []uint16 {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// slotWords returns the words a slot stands for, in the key form of frame
// words (lower case, no apostrophes), sorted.
func slotWords(slot string) ([]string, error) {
	var out []string
	for _, alt := range strings.Split(slot, "|") {
		switch {
		case alt == "":
			return nil, fmt.Errorf("empty alternative")
		case strings.HasPrefix(alt, "{"):
			if !strings.HasSuffix(alt, "}") {
				return nil, fmt.Errorf("unclosed {")
			}
			name := alt[1 : len(alt)-1]
			if name == "number" || name == "amount" {
				out = append(out, "#"+name)
				continue
			}
			class, ok := Classes[name]
			if !ok {
				return nil, fmt.Errorf("no word class %q (see text.Classes)", name)
			}
			for _, w := range class {
				out = append(out, expandWord(w)...)
			}
		default:
			out = append(out, expandWord(alt)...)
		}
	}
	for i, w := range out {
		if w == numberKey || w == amountKey {
			continue
		}
		out[i] = frameKey(w)
		if out[i] == "" || strings.ContainsAny(out[i], " {}~|?+#") {
			return nil, fmt.Errorf("word %q is not one word", w)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func expandWord(w string) []string {
	if strings.HasSuffix(w, "+") {
		return Inflections(strings.TrimSuffix(w, "+"))
	}
	return []string{w}
}

// frameKey is the form in which words are compared: lower case without
// apostrophes ("don't" and "dont" are one word).
func frameKey(w string) string {
	w = strings.ToLower(w)
	if strings.ContainsAny(w, "'’") {
		w = strings.NewReplacer("'", "", "’", "").Replace(w)
	}
	return w
}

// Len returns the number of frames.
func (fs *FrameSet) Len() int { return len(fs.frames) }

// Spec returns frame id as written.
func (fs *FrameSet) Spec(id int) string { return fs.specs[id] }

// FrameMatch is one occurrence of a frame: its id (index in the specs) and
// its byte ranges, from its first slot's word to its last.
type FrameMatch struct {
	ID                 int
	Start, End         int // in Normalized.Text
	OrigStart, OrigEnd int // in the source text
}

// frameToken is one word of a text being matched.
type frameToken struct {
	start, end int32 // in Normalized.Text
	sentence   int32
	sets       []uint16
}

// FrameScratch holds the buffers of one goroutine's frame matching, so
// that matching does not allocate once they have grown.
type FrameScratch struct {
	tokens []frameToken
	key    []byte
	words  frameWords // the text's words, when no Shared holds them
}

// Match appends the frames found in n to out: for each frame, each place
// where its first slot's word begins a reading of all its slots, the
// shortest such reading. At most one match per frame and first word.
func (fs *FrameSet) Match(n Normalized, sc *FrameScratch, out []FrameMatch) []FrameMatch {
	if fs == nil || len(fs.frames) == 0 {
		return out
	}
	sc.words.split(n.Text)
	return fs.matchWords(n, sc, &sc.words, out)
}

// matchWords is Match over the words of n.Text, split already.
func (fs *FrameSet) matchWords(n Normalized, sc *FrameScratch, fw *frameWords, out []FrameMatch) []FrameMatch {
	sc.tokens = sc.tokens[:0]
	for i := range fw.words {
		w := &fw.words[i]
		sc.tokens = append(sc.tokens, frameToken{start: w.start, end: w.end, sentence: w.sentence, sets: fs.lookup(sc, fw, w)})
	}
	toks := sc.tokens
	for i := range toks {
		for _, set := range toks[i].sets {
			for _, fi := range fs.starts[set] {
				fr := &fs.frames[fi]
				if fr.atStart && i > 0 || fr.atSentence && i > 0 && toks[i-1].sentence == toks[i].sentence {
					continue
				}
				if end, ok := fs.matchFrom(fr, 1, i, 0, toks); ok {
					m := FrameMatch{ID: int(fi), Start: int(toks[i].start), End: int(toks[end].end)}
					m.OrigStart, m.OrigEnd = n.Original(m.Start, m.End)
					out = append(out, m)
				}
			}
		}
	}
	return out
}

// matchFrom matches slots k.. of frame after token prev, having passed
// over fillers so far; it returns the index of the token of the last slot.
func (fs *FrameSet) matchFrom(fr *frame, k, prev, fillers int, toks []frameToken) (int, bool) {
	if k == len(fr.slots) {
		return prev, !fr.atEnd || prev == len(toks)-1
	}
	s := fr.slots[k]
	passed, f := 0, fillers
	for j := prev + 1; j < len(toks); j++ {
		if toks[j].sentence != toks[prev].sentence {
			break
		}
		if slices.Contains(toks[j].sets, s.set) {
			if end, ok := fs.matchFrom(fr, k+1, j, f, toks); ok {
				return end, true
			}
		}
		if f < maxFillers && len(toks[j].sets) > 0 && toks[j].sets[0] == fs.filler {
			f++ // sets are ascending and the filler set is 0
			continue
		}
		if passed++; passed > int(s.gap) {
			break
		}
	}
	if s.optional {
		return fs.matchFrom(fr, k+1, prev, fillers, toks)
	}
	return 0, false
}

// frameWords are the words of a text as frame matching reads them, before
// any frame set looks them up: the same for every frame set, so the
// detectors of an engine split a text once (Shared.MatchFrames).
type frameWords struct {
	words []frameWord
	keys  []byte // every word's key, one after the other
}

// frameWord is one word: where it is, its sentence, and its key (lower
// case, apostrophes dropped) with the key's FNV-1a hash.
type frameWord struct {
	start, end   int32 // in Normalized.Text
	sentence     int32
	keyLo, keyHi int32 // in frameWords.keys
	hash         uint64
	long         bool // a letter repeated three times or more
	possessive   bool // ends in 's
	number       bool // a {number}
	money        bool // a number that is an {amount}
}

// split splits text into words (letters, digits and apostrophes; other
// characters separate them) and computes each one's key.
func (fw *frameWords) split(s string) {
	fw.words, fw.keys = fw.words[:0], fw.keys[:0]
	sentence := int32(0)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && !asciiWord[c] {
			switch c {
			case '.', '!', '?', ';', '\n':
				sentence++
			}
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			if r, size := utf8.DecodeRuneInString(s[i:]); !isFrameWordRune(r) {
				i += size
				continue
			}
		}
		start := i
		for i < len(s) {
			if c := s[i]; c < utf8.RuneSelf {
				if !asciiWord[c] && !digitSeparator(s, i) {
					break
				}
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if !isFrameWordRune(r) {
				break
			}
			i += size
		}
		// Apostrophes at a word's edges are quotation marks ('i know'),
		// not part of it: the match must not take them in, or a quote
		// would not contain it (InQuotes).
		ws, we := start, i
		for ws < we {
			if s[ws] == '\'' {
				ws++
			} else if strings.HasPrefix(s[ws:we], "’") {
				ws += len("’")
			} else {
				break
			}
		}
		for we > ws {
			if s[we-1] == '\'' {
				we--
			} else if strings.HasSuffix(s[ws:we], "’") {
				we -= len("’")
			} else {
				break
			}
		}
		if ws == we {
			continue
		}
		w := fw.word(s[ws:we], int32(ws), int32(we), sentence)
		if w.number && (currencyBefore(s[:ws]) || currencyAfter(s[we:])) {
			w.money = true
		}
		fw.words = append(fw.words, w)
	}
	// A number followed by a currency word is a sum of money ("500 usdt").
	for i := 0; i+1 < len(fw.words); i++ {
		if w, next := &fw.words[i], &fw.words[i+1]; w.number && !w.money && next.sentence == w.sentence &&
			currencyWords[string(fw.keys[next.keyLo:next.keyHi])] {
			w.money = true
		}
	}
}

// digitSeparator reports whether s[i] is a . or , between two digits: part
// of a number ("1,200", "4.2m"), not a word or sentence boundary.
func digitSeparator(s string, i int) bool {
	return (s[i] == '.' || s[i] == ',') && i > 0 && i+1 < len(s) && isDigit(s[i-1]) && isDigit(s[i+1])
}

// currencySigns are the signs written next to a sum of money.
var currencySigns = []string{"$", "£", "€", "¥", "₹", "₦", "₿", "₱", "₩", "₽", "₺", "₴"}

// currencyBefore reports whether before ends in a currency sign, with at
// most one space after it ("$100", "£ 50").
func currencyBefore(before string) bool {
	before = strings.TrimSuffix(before, " ")
	for _, c := range currencySigns {
		if strings.HasSuffix(before, c) {
			return true
		}
	}
	return false
}

// currencyAfter reports whether after starts with a currency sign ("100$").
func currencyAfter(after string) bool {
	for _, c := range currencySigns {
		if strings.HasPrefix(after, c) {
			return true
		}
	}
	return false
}

// currencyWords are the keys of the class currency.
var currencyWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range Classes["currency"] {
		m[frameKey(w)] = true
	}
	return m
}()

// numeric reports whether key is a {number}: digit groups separated by .
// or , and an optional k, m, mn, b or bn.
func numeric(key []byte) bool {
	i := 0
	for i < len(key) && (isDigit(key[i]) || i > 0 && (key[i] == '.' || key[i] == ',') && i+1 < len(key) && isDigit(key[i+1])) {
		i++
	}
	if i == 0 {
		return false
	}
	switch string(key[i:]) {
	case "", "k", "m", "mn", "b", "bn":
		return true
	}
	return false
}

// word appends w's key to fw.keys and describes it.
func (fw *frameWords) word(w string, start, end, sentence int32) frameWord {
	out := frameWord{start: start, end: end, sentence: sentence, keyLo: int32(len(fw.keys))}
	run, prev := 0, byte(0)
	h := uint64(fnvOffset)
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c == '\'' {
			continue
		}
		if c == 0xE2 && i+2 < len(w) && w[i+1] == 0x80 && w[i+2] == 0x99 { // ’
			i += 2
			continue
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c == prev {
			run++
			if run >= 3 {
				out.long = true
			}
		} else {
			run = 1
		}
		prev = c
		fw.keys = append(fw.keys, c)
		h = (h ^ uint64(c)) * fnvPrime
	}
	out.keyHi, out.hash = int32(len(fw.keys)), h
	out.number = isDigit(fw.keys[out.keyLo]) && numeric(fw.keys[out.keyLo:out.keyHi])
	out.possessive = strings.HasSuffix(w, "'s") || strings.HasSuffix(w, "’s")
	return out
}

// asciiWord: the ASCII bytes of words (letters, digits, apostrophe).
var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = isFrameWordRune(rune(c))
	}
	return t
}()

func isFrameWordRune(r rune) bool {
	return r == '\'' || r == '’' || r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z') ||
		r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// lookup returns the sets of word w of fw: those of its key, or else of
// its other readings, tried only when it has what they undo (rare: most
// words simply are not in the frames). A word with a letter repeated three
// times or more is also looked up with the run shortened to two letters
// and to one ("sooo" is "so", "pleeease" is "please").
func (fs *FrameSet) lookup(sc *FrameScratch, fw *frameWords, w *frameWord) []uint16 {
	key := fw.keys[w.keyLo:w.keyHi]
	if w.number {
		if slot := fs.words.get(key, w.hash); slot != nil {
			if w.money {
				return slot.money
			}
			return slot.sets
		}
		if w.money {
			return fs.amount
		}
		return fs.number
	}
	if slot := fs.words.get(key, w.hash); slot != nil {
		return slot.sets
	}
	// The readings below are built past the end of the key: in a copy of
	// the scratch's own, not in the text's keys.
	sc.key = append(sc.key[:0], key...)
	key = sc.key
	if w.long {
		for _, keep := range [2]int{2, 1} {
			k := squeeze(key, keep)
			if slot := fs.words.get(k, hashKey(k)); slot != nil {
				return slot.sets
			}
		}
	}
	if n := len(key); n > 1 && strings.IndexByte(string(key), '1') >= 0 && strings.ContainsFunc(string(key), unicode.IsLetter) {
		// 1 is the normal form's "i or l" ("p1cs", "ki11"): both readings.
		for _, r := range [2]byte{'i', 'l'} {
			k := append(key[n:n], key...)
			for j := range k {
				if k[j] == '1' {
					k[j] = r
				}
			}
			if slot := fs.words.get(k, hashKey(k)); slot != nil {
				return slot.sets
			}
		}
	}
	if n := len(key); n > 2 && key[n-1] == 's' && w.possessive {
		// A possessive or "is": "number's" is number.
		if slot := fs.words.get(key[:n-1], hashKey(key[:n-1])); slot != nil {
			return slot.sets
		}
	}
	return nil
}

// wordTable maps the words of a frame set to their sets: an open-addressing
// table keyed by FNV-1a, whose hash lookup computes while it folds the word
// (a map would hash the key a second time; this is the hot loop of frame
// matching, one lookup per word of every message).
type wordTable struct {
	slots []wordSlot
	mask  uint64
}

type wordSlot struct {
	hash  uint64
	word  string
	sets  []uint16
	money []uint16 // the sets of a number word when it is an {amount}
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashKey(b []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

func newWordTable(words, money map[string][]uint16) wordTable {
	size := 16
	for size < 2*len(words) {
		size *= 2
	}
	t := wordTable{slots: make([]wordSlot, size), mask: uint64(size - 1)}
	for w, sets := range words {
		h := hashKey([]byte(w))
		i := h & t.mask
		for t.slots[i].sets != nil {
			i = (i + 1) & t.mask
		}
		t.slots[i] = wordSlot{hash: h, word: w, sets: sets, money: money[w]}
	}
	return t
}

func (t *wordTable) get(key []byte, h uint64) *wordSlot {
	if len(t.slots) == 0 {
		return nil
	}
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.sets == nil {
			return nil
		}
		if s.hash == h && s.word == string(key) {
			return s
		}
	}
}

// squeeze shortens, in place of a copy at the end of b's array, every run
// of three or more equal bytes to keep bytes.
func squeeze(b []byte, keep int) []byte {
	out := b[len(b):]
	run := 0
	for i := 0; i < len(b); i++ {
		if i > 0 && b[i] == b[i-1] {
			run++
		} else {
			run = 1
		}
		if run <= keep || !longRun(b, i) {
			out = append(out, b[i])
		}
	}
	return out
}

// longRun reports whether b[i] is in a run of at least three equal bytes.
func longRun(b []byte, i int) bool {
	c, n := b[i], 1
	for j := i - 1; j >= 0 && b[j] == c; j-- {
		n++
	}
	for j := i + 1; j < len(b) && b[j] == c; j++ {
		n++
	}
	return n >= 3
}
