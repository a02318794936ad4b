// Package harassment is the harassment detector: targeted insults and
// degradation, threats of violence, encouragement of self-harm, slurs and
// hate aimed at the recipient, sexual harassment and sextortion, doxxing,
// untargeted profanity (informational), and, per conversation, escalation
// and unwanted contact. It supersedes the keyword detector's harassment
// rules.
//
// Its rules are data, in the common rule format (detectors.LoadRules): the
// built-in ones in the embedded rules.yaml, whose header documents every
// field, others in a rules directory. Every rule carries examples that must
// and must not match, checked whenever rules load.
//
// # Reading a message
//
// A message is put in the normal form of detectors/text, which undoes
// leetspeak, look-alike letters, invisible characters, spacing, masking and
// stretching, and keeps a map back to the original bytes. One text.Matcher
// per rule set holds every term and cue of every rule and the grammar's own
// word lists (grammar.go), each with its roles; one pass finds them all.
// Findings report original byte offsets (text.Normalized.Original), so the
// evidence shows what the sender typed.
//
// # Grading a match
//
// A terms rule with target: second_person counts a term only when it is
// aimed at the reader: after a second-person word with only
// fillers in between ("you are such a fucking …"), after "your mom" and the
// like, after "ur" or a vocative when the term ends the clause ("ur dumb",
// "shut up loser", but not "ur dumb idea"), before "like you", or in a
// sentence of two or more insults and nothing else ("ugly bitch"). A full
// stop, ! ? ; or a line break ends every frame. Then, in order: a rule's
// unless_before (same clause) or unless_after cue cancels the match; a
// missing contact detail that the rule requires cancels it; quotation marks
// (text.InQuotes) or a low_before / low_after cue grade it low; laughter or
// a joke in the message grades it at the rule's banter severity, but only
// when it is the message's one harassing match (banter is judged
// conservatively: piling on is not a joke). A rule reports its
// highest-graded match, once per message.
//
// Only the message itself decides a terms rule's finding, never the
// conversation: the pipeline's restart tests expect every stateless rule to
// give exactly what replay gives, and so do analysts, who see why a message
// was flagged from the message.
//
// # The conversation
//
// The escalation rule counts, per (conversation, sender), the messages that
// qualify (a medium+ harassment finding; sent after the other person asked
// the sender to stop; or a long unanswered run) and fires from the
// messages-th within the window, all in event time (sent_at). Its state is
// a size-capped LRU with idle eviction by event time (escalation.go) and
// survives a rules reload (Reloader). Everything it remembers can only add
// to a count, so a restart that loses the state can miss an escalation but
// never raise one that replay would not, and its evidence is the same
// whichever way the count was reached. Unwanted contact is part of this one
// rule rather than a rule of its own for that reason: the pipeline's
// restart and fault tests allow exactly one stateful rule id,
// harassment.escalation. A second escalation rule in a rules directory
// (for example one that counts only stop requests and unanswered runs)
// works, but those tests would need to know its id.
//
// Friendly banter between two people (insults with "lol" on both sides)
// stays low and does not count; after a stop request every message counts,
// jokes included.
package harassment
