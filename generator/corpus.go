package generator

// The text corpus. Every table is read-only. Templates may contain slots in
// braces ({name}, {place}, …) that fill replaces with a random value; a test
// fills every template to check that each slot exists.
//
// Harmful lines describe behaviour only. Grooming lines are the approach
// patterns that safety teams look for (flattery, questions about age and
// supervision, secrecy, moving to another app, gifts, photo and meeting
// requests); none is sexual. Some harmful lines are deliberately written in
// ways a phrase list is unlikely to know (paraphrase, spacing, leetspeak), so
// that the generator can measure a detector's recall honestly.

var (
	names    = []string{"Sam", "Alex", "Jordan", "Priya", "Mateo", "Aisha", "Ben", "Chloe", "Liam", "Zoe", "Noah", "Mia", "Omar", "Lena", "Kai", "Ruby", "Leo", "Ivy", "Finn", "Nora", "Tom", "Yuki", "Dev", "Sofia"}
	places   = []string{"the park", "the mall", "Dave's", "the library", "the cinema", "the gym", "the pizza place", "the station", "Costa", "the beach", "the skate park", "Nando's", "the rec centre", "my place"}
	times    = []string{"at 6", "tomorrow", "after practice", "on Saturday", "tonight", "at lunch", "this weekend", "around 7:30", "after school", "on Friday", "in 20 min", "at half 4"}
	days     = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	games    = []string{"Minecraft", "Fortnite", "Roblox", "Valorant", "FIFA", "Mario Kart", "Zelda", "Among Us", "Rocket League", "Apex", "Stardew", "Overwatch"}
	subjects = []string{"maths", "chemistry", "history", "English", "biology", "French", "physics", "geography", "Spanish", "art"}
	teachers = []string{"Patel", "Okafor", "Smith", "Nguyen", "Brown", "Kowalski", "Hughes", "Garcia"}
	foods    = []string{"pizza", "tacos", "ramen", "burgers", "sushi", "pasta", "curry", "pancakes"}
	shows    = []string{"the new season", "that documentary", "the final", "Bake Off", "the match", "that anime"}
	handleA  = []string{"night", "pixel", "shadow", "lucky", "frost", "turbo", "silver", "nova", "crypto", "sunny"}
	handleB  = []string{"owl", "fox", "wolf", "gamer", "queen", "king", "star", "rider", "trader", "cat"}
	domains  = []string{"bit.ly", "tinyurl.com", "cutt.ly", "rb.gy", "prize-claim.net", "secure-verify.info", "freegift.shop"}
	amounts  = []string{"$500", "$1,000", "£250", "$100", "€300", "$2,500"}
	coins    = []string{"bitcoin", "BTC", "USDT", "ETH", "crypto"}
	brands   = []string{"Amazon", "Steam", "Apple", "Google Play", "Walmart", "Sephora"}
)

// Interjections and reactions, used in every kind of conversation.
var reactions = []string{
	"lol", "haha yes", "ok", "omg", "wait really?", "same", "👍", "😂😂", "ikr", "nice", "no way", "hahaha",
	"true", "fair", "yeah", "ok cool", "brb", "sorry was eating", "wdym", "lmao", "ugh", "😭", "yesss", "hmm",
}

// Benign topics. Each conversation keeps to one topic, with reactions mixed in.
var (
	plansLines = []string{
		"are we still on for {place} {time}?", "yeah I'll be there {time}", "can we push it to {time}?",
		"sure, who else is coming?", "{name} said they might come", "want me to pick you up?",
		"running 10 min late sorry", "I'm outside", "see you there", "should I book a table?",
		"bring a jacket, it's supposed to rain", "can't {time}, what about {day}?", "I'm up for {food}",
		"meet at {place}?", "omw", "where are you? I'm by the entrance", "let's get {food} after",
		"I'll find you at the entrance", "who's driving?", "my mum can drop us off",
	}
	schoolLines = []string{
		"did you finish the {subject} homework?", "the test is on {day} right?", "I totally bombed that quiz",
		"can you send me the notes from {subject}?", "Mr {teacher} gave us so much homework",
		"our class trip is to the science museum", "what did you get for question 4?",
		"I need help with this {subject} problem", "group project meeting at lunch?", "I passed!!",
		"Ms {teacher} moved the deadline to {day}", "can you send me a pic of the homework sheet?",
		"I forgot my PE kit again", "the {subject} teacher is off sick so we have a sub",
		"revision at {place} {time}?", "how did you do on the mock?", "I have a {subject} test tomorrow, pray for me",
	}
	gameLines = []string{
		"you on {game} tonight?", "just hit level 40", "that last round was insane", "we got destroyed lol",
		"add me, my username is {handle}", "wanna squad up?", "my wifi keeps dropping", "did you see the new update?",
		"I finally killed the boss", "that boss is killing me", "gg", "headshot!!", "I'm gonna destroy you next round",
		"carry me pls", "lag is so bad rn", "new skin looks sick", "I spent all my vbucks lol",
		"one more game then bed", "who picked this map", "we need a third for {game}",
	}
	workLines = []string{
		"can you cover my shift on {day}?", "the meeting got moved to {time}", "boss wants the report by {day}",
		"just submitted the deck", "coffee before standup?", "my manager is out this week",
		"finally got the promotion!!", "this deadline is killing me", "did you get the email from HR?",
		"I'm going to kill it at my interview tomorrow", "can you review my PR when you get a sec?",
		"the client loved it", "working from home {day}", "lunch at {place}?", "the printer is jammed again",
		"quarterly numbers look good", "I need a holiday", "who's doing the rota this week?",
	}
	jokeLines = []string{
		"why did the scarecrow win an award? because he was outstanding in his field",
		"lmao that video", "I'm dead 😂", "you're such an idiot lol", "stop I can't breathe",
		"send me that meme again", "this is the funniest thing I've seen all week",
		"my cat just knocked my tea over while staring at me", "I can't believe you said that to {name} 😂",
		"that's so bad it's good", "my dad told the worst joke at dinner", "😂😂😂 I'm crying",
	}
	parentLines = []string{
		"what time will you be home?", "don't forget your keys", "can you pick up milk on the way?",
		"text me when you get there", "dinner's at 7", "did you eat?", "love you", "grandma says hi",
		"ok but be back by 10", "have you done your homework?", "I'll pick you up after practice",
		"your brother has the car", "call me when you're out", "how was the {subject} test?",
	}
	childLines = []string{
		"can I stay at {name}'s tonight?", "I'm at {place}", "can you pick me up {time}?", "love you too",
		"I got a B in {subject}!", "we're going to {place} after school", "can I have money for {food}?",
		"I forgot my keys 😭", "on the bus now", "ok", "yes I ate", "practice ran late",
	}
	friendAdultLines = []string{
		"how was the weekend?", "we should meet up sometime, it's been ages", "how's your mum doing?",
		"did you watch {shows}?", "I'm making {food} tonight", "happy birthday!! 🎉", "congrats on the new job",
		"the kids are driving me mad", "gym {time}?", "I'm home alone tonight, so bored",
		"keep this between us but I'm handing in my notice", "just booked flights!!", "traffic is a nightmare",
	}
	foreignLines = []string{
		"¿vienes mañana?", "Schönes Wochenende!", "on se voit au café à 18h ?", "obrigado pela ajuda!",
		"ci vediamo stasera", "naïve question but is the café open?", "Grüße aus München", "まじで？",
	}
)

// Benign texts that share words or phrases with harmful ones: a lexicon must
// not flag them (at medium severity or above). Quoted ones report what
// someone else said.
var trickyLines = []string{
	"I'm going to kill it at my interview tomorrow",
	"I live in Scunthorpe, it's near Hull",
	"our class assassin game starts Monday",
	"that skill tree is so good",
	"this deadline is killing me",
	"my brother said \"kys\" to me so mum took his phone",
	"she literally said 'nobody likes you' to {name}, so mean. I told Mr {teacher}",
	"don't tell mum, it's a surprise party for her",
	"can you send me a pic of the homework?",
	"don't kill yourself over one exam lol",
	"I'm home alone tonight, want to come over and watch a film?",
	"my aunt got a text saying \"claim your prize\" lol, such an obvious scam",
	"the passage about the assassination is in chapter 3",
	"we had a little secret santa at work",
	"I'll find you at the entrance",
	"how old is your dog now?",
	"that cocktail was so good, I'm dead",
	"oh snap I forgot my charger",
	"watch the back door, the cat keeps escaping",
	"I spent all my robux on a hat 😭",
	"Essex is lovely this time of year",
	"my grandad is a retired butcher",
}

// Harassment: the aggressor's lines, and the target's replies. Some
// aggressor lines avoid obvious wording on purpose.
var (
	harassOpeners = []string{"hey", "saw your post", "lol look who's online", "why are you even here", "oi"}
	harassLines   = []string{
		"you're such a loser", "nobody likes you", "everyone at school hates you", "you're worthless",
		"you're pathetic", "kys", "go kill yourself", "just kys already", "nobody would miss you if you were gone",
		"I know where you live", "watch your back tomorrow", "I'm going to hurt you", "you're disgusting",
		"shut up you ugly freak", "everyone is laughing at you", "you have no friends and you never will",
		"I'll make your life hell", "do everyone a favour and unalive yourself",
		// harder to catch by wording
		"k y s", "you should just disappear", "the world is better off without people like you",
		"ur such a w0rthless l0ser", "no one wants you around, get it?", "see you after school. alone.",
	}
	victimLines = []string{
		"leave me alone", "why are you doing this", "stop", "I'm reporting you", "please stop messaging me",
		"what did I ever do to you", "I'm blocking you", "just stop",
	}
)

// Spam and scams: the spammer's lines, and the recipient's replies.
var (
	spamLines = []string{
		"Congratulations! You've been selected to receive a reward, claim your prize: {url}",
		"You won a {amount} {brand} gift card! Claim now at {url}",
		"Double your {coin} in 24 hours, guaranteed returns. DM me",
		"I made {amount} this week trading {coin}, add me on telegram @{handle} and I'll show you",
		"Hi dear, I am an investment manager. Send {amount} in USDT and get 10x back",
		"Your account will be suspended, verify your account here: {url}",
		"cheap followers and likes, visit {url}",
		"FREE ROBUX generator!! {url}",
		"Final notice: unusual activity on your account. Log in to verify: {url}",
		// harder to catch by wording
		"hey 😊 I saw your profile, you seem nice. I work in finance, want to learn how I earn from home?",
		"limited offer 🔥 {url}",
	}
	spamReplies = []string{"who is this?", "stop messaging me", "blocked", "is this real?", "no thanks", "reported"}
)

// Grooming, by stage. rapport lines are not harmful on their own; every later
// stage is. The minor's replies are everyday teen replies.
var (
	groomRapport = []string{
		"hey, saw you in the {game} lobby, you're really good", "what's your favourite game?", "lol same",
		"what did you do today?", "that's so cool", "I love {game} too", "you're funny",
	}
	groomFlattery = []string{
		"you're so mature for your age", "you seem way more mature than other kids your age",
		"you're not like the other kids", "age is just a number anyway", "nobody understands you like I do",
		// harder to catch by wording
		"ur really grown up for someone ur age", "honestly you're cooler than people my age",
	}
	groomProbe = []string{
		"how old are you btw?", "what grade are you in?", "are you home alone?", "when do your parents get home?",
		"do your parents check your phone?", "are your parents home right now?",
		// harder to catch by wording
		"is it just you at home today?", "does anyone look at your phone?",
	}
	groomSecrecy = []string{
		"don't tell your mom about me ok?", "this is our little secret", "delete our messages after you read them",
		"your parents wouldn't understand us", "don't tell anyone we talk", "dont tell ur mom",
		// harder to catch by wording
		"keep this between us", "grown ups always ruin things, so this stays with us",
	}
	groomPlatform = []string{
		"add me on snapchat, it's easier", "do you have whatsapp? let's talk there", "what's your snap?",
		"download kik so we can talk somewhere more private", "let's talk privately on another app",
	}
	groomGifts = []string{
		"I can buy you vbucks if you want", "want some robux? I have loads", "I'll gift you a skin",
		"I can send you money for the new game", "I'll buy you a new phone if yours is broken",
	}
	groomPhoto = []string{
		"send me a pic of you", "can you send me a selfie?", "turn your camera on", "let me see what you look like",
		// harder to catch by wording
		"pic? 📸",
	}
	groomMeet = []string{
		"we should meet up sometime", "I can pick you up after school", "come alone ok",
		"tell your mom you're at a friend's house", "don't bring anyone, just us",
		// harder to catch by wording
		"I'll wait round the corner from your school on Friday",
	}
	minorReplies = []string{
		"lol ok", "idk", "thanks lol", "14", "13", "15", "9th grade", "year 9", "yeah my mom works late",
		"my parents are out till 8", "I play like every day", "school was boring", "haha", "maybe", "k",
		"why?", "my mom checks sometimes", "ok", "I have to go eat", "that's cool",
	}
)
