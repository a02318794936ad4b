package grooming

import "time"

// stage is one step of the grooming process as the research literature
// describes it (O'Connell's stages, Olson et al.'s luring communication
// model). The set and its order are fixed in code, because the scoring
// depends on them; rules (rules.yaml) say which words are evidence of which
// stage. The value is stored in the durable state: never renumber.
type stage uint8

const (
	stFriendship  stage = iota // compliments, special-friend talk, trust building
	stInformation              // age, location, school
	stSupervision              // parents' schedule, being alone, who reads the phone
	stGifts                    // money, game currency, gift cards
	stIsolation                // "they don't understand you like I do"
	stSecrecy                  // "don't tell your mom", "delete this"
	stOffPlatform              // another app, a phone number
	stPhotos                   // photo or video requests, camera
	stSexual                   // private pictures, body, underwear, kissing
	stMeeting                  // meeting in person
	nStages
)

// stageInfo gives each stage its name in rule files, its phase in the
// typical progression (1 comes first) and its weight in the risk score:
// how much the stage, fully present, says about grooming. Early stages are
// everyday talk and weigh little; secrecy, isolation, sexual content and
// meeting weigh most.
var stageInfo = [nStages]struct {
	name   string
	phase  uint8
	weight float64
}{
	stFriendship:  {"friendship", 1, 0.4},
	stInformation: {"information", 2, 0.5},
	stSupervision: {"supervision", 2, 0.9},
	stGifts:       {"gifts", 2, 0.6},
	stIsolation:   {"isolation", 3, 1.0},
	stSecrecy:     {"secrecy", 3, 1.2},
	stOffPlatform: {"off_platform", 3, 0.7},
	stPhotos:      {"photos", 4, 1.0},
	stSexual:      {"sexual", 4, 2.0},
	stMeeting:     {"meeting", 5, 1.2},
}

func (s stage) String() string {
	if s < nStages {
		return stageInfo[s].name
	}
	return "stage?"
}

func parseStage(name string) (stage, bool) {
	for s := range nStages {
		if stageInfo[s].name == name {
			return s, true
		}
	}
	return 0, false
}

func stageNames() []string {
	out := make([]string, nStages)
	for s := range nStages {
		out[s] = stageInfo[s].name
	}
	return out
}

// context is something said in a conversation that changes how its stage
// signals read. family and guardians damp the whole conversation (a parent
// planning a surprise, a coach who keeps the parents informed); adultLife
// and childLife are what a person says about their own life, evidence of
// their age when none is declared or disclosed. Stored in the durable
// state: never renumber.
type context uint8

const (
	ctxFamily    context = iota // the participants are family ("love you mum", "from auntie")
	ctxGuardians                // the parents are in the loop ("I've cleared it with your mum")
	ctxAdultLife                // the speaker lives an adult's life ("after work", "my flat")
	ctxChildLife                // the speaker lives a child's life ("my homework", "I'm grounded")
	nContexts
)

var contextNames = [nContexts]string{"family", "guardians", "adult_life", "child_life"}

func parseContext(name string) (context, bool) {
	for c := range nContexts {
		if contextNames[c] == name {
			return c, true
		}
	}
	return 0, false
}

// conversational reports whether a context is about the conversation (it
// damps the risk) rather than about the speaker.
func (c context) conversational() bool { return c == ctxFamily || c == ctxGuardians }

// Scoring constants (see docs/grooming.md).
const (
	// halfLife is how fast a stage signal fades when nothing renews it.
	halfLife = 14 * 24 * time.Hour
	// riskScale maps the raw score R to risk = 1 - exp(-R/riskScale).
	riskScale = 4.0
	// askWindow is how long after an age question a bare number ("13") is
	// read as the answer.
	askWindow = time.Hour
	// fastSpan and slowSpan: three or more stages within fastSpan score
	// more (a fast progression), within slowSpan a little more.
	fastSpan = 24 * time.Hour
	slowSpan = 72 * time.Hour
	// minStrength: a stage whose signals have faded below this is absent.
	minStrength = 0.02
)
