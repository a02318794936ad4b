// Package text is the text layer that every detector shares: a normal form
// that undoes the common ways of disguising words, with a map back to the
// original bytes, and a lexicon matcher over it with word-boundary
// semantics.
//
// # The normal form
//
// Normalize (or a reusable Normalizer) rewrites a message so that disguised
// and plain spellings of a word meet. In order:
//
//  1. Invisible characters are removed: format characters (Unicode
//     category Cf: zero-width space and joiners U+200B–U+200F, word joiner
//     and invisible operators U+2060–U+2064, bidirectional controls, the
//     byte-order mark U+FEFF, the soft hyphen U+00AD, tags), control
//     characters, variation selectors, the combining grapheme joiner and the
//     Hangul fillers. Emoji stay intact: the zero-width joiner, the
//     presentation selectors and tags are kept where they follow an emoji, a
//     symbol or a keycap base. A combining mark that directly follows a
//     removed character goes with it.
//  2. NFKC: full-width forms (ｋｙｓ), mathematical alphanumerics (𝐤𝐲𝐬),
//     circled, super- and subscript letters and ligatures become plain
//     characters, and combining sequences are composed.
//  3. Case folding: lower case, with ß → ss and final ς → σ.
//  4. Latin letters lose their diacritics and decorations (kíll → kill,
//     ş → s, ø → o, ł → l, small capitals ᴋ → k), and combining marks that
//     follow a Latin letter, or a letter that looks like one, are dropped
//     (Zalgo text), as are marks on spaces or at the start of the text.
//     Marks on other letters are kept: Devanagari, Greek and
//     Cyrillic stay as written (й, ё and ά are single characters after NFKC
//     and are untouched). Latin-script languages lose their accents in the
//     normal form; it is for matching, not for display.
//  5. Whitespace runs become one space; leading and trailing space goes.
//  6. Letters spelled out one by one are joined: three or more single
//     letters (or digits and masks, at least two of them letters) separated
//     by the same one to three characters of spaces, dots, dashes or
//     underscores ("k y s", "k.y.s", "i-d-i-o-t", "k _ y _ s") become a
//     word. Two single letters ("e.g.") are left alone, and so are digits
//     only ("1 2 3"). Three one-letter words in a row ("u r a") are joined
//     too; that is rare in real chat and accepted. A wider space between
//     spelled-out words ends one long enough to join ("w a t c h  y o u r"
//     is "watch your").
//  7. Leetspeak is read inside words that have a letter, and only there, so
//     "I have 2 dogs", "call 555 1234" and "$50" keep their digits. Each
//     maximal run of digits and leet symbols (@ $ ! | €) in such a word is
//     read as letters when it lies between letters ("y0u", "n1663r",
//     "sh!t", "b@stard"), or when it touches a letter and is at most two
//     long ("h3ll0", "a55", "a$$", "$hit"); longer runs at a word's edge
//     are numbers ("2000s", "bitch123"). @ ! € must be between letters
//     ("hi!" and "@john" stay), a $ followed by a digit is a price
//     ("US$50"), and an @ in an e-mail address stays. 0→o 3→e 4→a 5→s 6→g
//     7→t 8→b 9→g, @→a $→s !→i €→e, | → 1; 2 is left alone ("2" is
//     usually "to"), and "h8" becomes "hb", not "hate": phonetic leet is
//     out of scope, and a lexicon entry "h8" normalises the same way, so it
//     still matches.
//  8. '1' inside a word with a letter is kept as '1', the normal form's
//     marker for "i or l": the two look alike and leetspeak uses 1 for
//     both. A capital I after a small letter in the same word ("kiII") and
//     letters that look like both (Greek Ι, Cyrillic І and Ӏ) become 1 too.
//     The Matcher reads 1 both ways.
//  9. Look-alike letters become the Latin letter they imitate. Two
//     tables: a hand-checked one for Cyrillic, Greek and Armenian (а, е,
//     о, р, с, у, х, і, ј, ѕ, ԁ, ο, α, ε, ι, κ, ν, ρ, τ, υ, χ …), and the
//     whole Unicode TR39 confusables data (confusables_table.go, generated
//     by `go generate` from the pinned github.com/mtibben/confusables,
//     confusables.txt 13.0.0, plus Latin letters whose Unicode name builds
//     them on a letter: "LATIN SMALL LETTER T WITH RETROFLEX HOOK" is a t):
//     every character whose skeleton, without marks and in lower case, is
//     one ASCII letter (Cherokee Ꮪ, Canadian syllabics ᑭ, Lisu ꓗ,
//     Georgian ყ, symbols such as ∪). The hand-checked entries win where
//     both have one. Latin-script letters are folded always; the others
//     are read as Latin word by word: in every word that has a Latin
//     letter ("раypal" → "paypal", "у0u" → "you"), in every word that
//     mixes scripts (no language writes a word so; Han, kana and Hangul
//     count as one), and in words made only of look-alikes ("ехе" →
//     "exe") when the message has a Latin letter and no letter of those
//     scripts that imitates nothing. Genuine Russian, Greek or Armenian
//     text therefore stays readable ("привет как дела" keeps its Cyrillic
//     although к, а, е look Latin). In a Latin word, letters that no table
//     reads (a letter of another script, a turned Latin letter such as ʇ
//     or ʍ), when at most half of the word, become U+FFFD, which the
//     Matcher reads as any letter wherever it stands ("kվs" matches
//     "kys"); invalid UTF-8 reads the same way.
//  10. Letters stretched by repetition are capped at three: "stuuuupid"
//     becomes "stuuupid". A run of three in the normal form means "once or
//     twice" to the Matcher, so it matches "stupid", while "good" (a run of
//     two) matches "good" and never "god". "gooood" matches both.
//
// The masks * and # are left in the text; the Matcher reads them as any
// letter where they stand inside a word ("f*ck", "sh#t") or in a run of two
// or more after a letter ("a**").
//
// # Guarantees
//
// Normalize never fails and never panics, whatever its input (invalid UTF-8
// reads as U+FFFD). Its Text is valid UTF-8 with no control characters and
// no NUL, and normalising it again gives it back unchanged: the normal form
// is idempotent, which the fuzz tests check. Every byte of Text maps to a
// non-empty range of source bytes; these ranges never decrease along the
// text, so Original maps a range of Text to a range of the source that
// covers exactly what the sender typed, including what was removed in
// between (zero-width characters, separators of spelled-out letters, the
// extra letters of a stretched run). Emoji are untouched.
//
// # Matching
//
// A Matcher is an Aho-Corasick automaton built once from a lexicon of
// phrases, each normalised the same way. It reads a text as its words
// separated by a boundary symbol, and stores each phrase framed by that
// symbol, so a phrase matches only as whole words ("ass" is not found in
// "class", "Scunthorpe" or "assassin", "kill" not in "skill") and a phrase
// of several words matches across any run of spaces and punctuation between
// them. Where the normal form is ambiguous (1, stretched letters, masks,
// a leading @) it follows every reading at once with a small set of states,
// pruning readings that another already covers, so the scan stays linear in
// the text and its cost does not depend on the size of the lexicon.
//
// Whether a match is meant (quoted speech, "kill it at my interview") is for
// the rules of each detector to decide; InQuotes helps with reported speech.
package text
