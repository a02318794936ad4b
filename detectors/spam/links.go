package spam

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/goshawk-safety/goshawk/detectors/text"
)

// Links, as the spam detector sees them: what a message links to is found
// in the text as written (a normal form would rewrite a host), and each host
// is then judged on its own: a URL shortener, a punycode or non-ASCII
// (internationalised) name, or a look-alike of a brand's name that is not
// one of the brand's domains.

// maxLinksPerMessage bounds the hosts judged in one message.
const maxLinksPerMessage = 32

// linkScan is what the links of one message show.
type linkScan struct {
	count     int
	shortener bool
	punycode  bool
	lookalike bool
}

// Top-level domains a bare host name (without http:// or www.) may end in
// to count as a link. Two-letter country codes that are English words
// ("it", "is", "me", "to", "so", "at", "in", "us", "no", "be", "am", "my",
// "do", "go") are left out: "ok.so" is a typo, not a link. With a path
// ("t.me/joinchat") any of weakTLDs is a link too.
var strongTLDs = setOf("com", "net", "org", "info", "biz", "io", "co", "ly", "gl", "gd", "gg", "xyz", "top", "click",
	"link", "online", "site", "shop", "store", "app", "dev", "live", "life", "club", "win", "vip", "icu", "cc", "tv",
	"ws", "su", "ru", "cn", "uk", "de", "fr", "nl", "es", "pl", "br", "au", "ca", "jp", "kr", "eu", "ch", "se",
	"dk", "fi", "pt", "gr", "tr", "ua", "kz", "ir", "vn", "th", "ph", "sg", "hk", "tw", "mx", "ar", "cl", "ve",
	"za", "ng", "ke", "ma", "tk", "ml", "ga", "cf", "gq", "pw", "buzz", "rest", "fun", "space", "website", "cyou",
	"sbs", "monster", "quest", "bond", "cfd", "lat", "page", "email", "support", "help", "today", "money",
	"finance", "loan", "bet", "casino", "gift", "cam", "work", "asia", "mobi", "pro", "name", "gov", "edu", "int")

var weakTLDs = setOf("it", "is", "me", "to", "so", "at", "in", "us", "no", "be", "am", "my", "do", "go", "la", "ai", "id", "ms", "fm", "im")

func setOf(s ...string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, v := range s {
		m[v] = true
	}
	return m
}

// affixes are words that phishing hosts put next to a brand's name
// ("paypal-secure", "verifyapple").
var affixes = []string{"secure", "security", "login", "signin", "verify", "verification", "account", "accounts",
	"support", "help", "helpdesk", "update", "service", "services", "online", "official", "team", "center",
	"centre", "billing", "pay", "payment", "wallet", "auth", "id", "web", "app", "mail", "customer", "care",
	"claim", "gift", "giftcard", "reward", "rewards", "bonus", "promo", "free", "refund", "unlock", "recovery",
	"confirm", "alert", "notice", "safe", "my", "the", "www", "http", "https", "info", "sso", "portal", "desk"}

// affixSkeletons are the affixes as skeleton compares them.
var affixSkeletons = func() []string {
	out := make([]string, len(affixes))
	for i, a := range affixes {
		out[i] = skeleton(a)
	}
	return out
}()

// scanLinks judges every link in s (at most maxLinksPerMessage).
func (l *linksRule) scan(s string, z *text.Normalizer, out *linkScan) {
	*out = linkScan{}
	if strings.IndexByte(s, '.') < 0 && !strings.Contains(s, "dot") {
		return // no host without a dot (or a disguised one)
	}
	for tok := range strings.FieldsFuncSeq(s, unicode.IsSpace) {
		host, ok := linkHost(tok)
		if !ok {
			continue
		}
		out.count++
		if out.count > maxLinksPerMessage {
			return
		}
		if l == nil {
			continue
		}
		if l.shorteners[host] {
			out.shortener = true
		}
		if isPunycode(host) {
			out.punycode = true
		}
		if !out.lookalike && l.lookalikeHost(host, z) {
			out.lookalike = true
		}
	}
}

// linkHost finds the host name of the link that the whitespace-free token
// tok is, in lower case and without a leading "www.", or reports that it
// is none. Schemes http, https and their "hxxp" disguise, "www." and bare
// host names with a known top-level domain count; "[.]", "(.)" and
// "[dot]" stand for a dot. An e-mail address or a @mention is not a link.
func linkHost(tok string) (string, bool) {
	if strings.IndexByte(tok, '.') < 0 && !strings.Contains(tok, "dot") {
		return "", false // most words: no host without a dot
	}
	tok = strings.TrimLeft(tok, "([{<\"'“‘«*_")
	scheme := false
	if i := strings.Index(tok, "://"); i >= 0 {
		pre := strings.ToLower(tok[:i])
		j := len(pre)
		for j > 0 && pre[j-1] >= 'a' && pre[j-1] <= 'z' {
			j--
		}
		switch pre[j:] {
		case "http", "https", "hxxp", "hxxps", "hxxxp":
		default:
			return "", false
		}
		tok, scheme = tok[i+3:], true
	}
	if !scheme && strings.ContainsRune(tok, '@') {
		return "", false // e-mail address or mention
	}
	tok = undisguiseDots(tok)
	end := len(tok)
	path := false
	for i := 0; i < len(tok); i++ {
		switch tok[i] {
		case '/', '?', '#', ':', '@', '\\':
			end, path = i, tok[i] == '/' || tok[i] == '?'
		default:
			continue
		}
		break
	}
	host := strings.TrimRight(tok[:end], ".,;!)]}>\"'”’»*_…")
	if host != tok[:end] {
		path = false // the token went on with punctuation, not a path
	}
	host = strings.ToLower(host)
	lower := strings.TrimPrefix(host, "www.")
	www := lower != host
	if !validHost(lower) {
		return "", false
	}
	dot := strings.LastIndexByte(lower, '.')
	if dot < 0 {
		return "", false
	}
	tld := lower[dot+1:]
	switch {
	case scheme || www:
		if !isTLD(tld) {
			return "", false
		}
	case strongTLDs[tld] || strings.HasPrefix(tld, "xn--"):
		if allDigits(lower[:dot]) {
			return "", false
		}
	case weakTLDs[tld] && path:
	default:
		return "", false
	}
	return lower, true
}

// undisguiseDots replaces "[.]", "(.)" and "[dot]" by "." (allocating only
// when there is one).
func undisguiseDots(s string) string {
	if !strings.ContainsAny(s, "[(") {
		return s
	}
	r := strings.NewReplacer("[.]", ".", "(.)", ".", "[dot]", ".", "(dot)", ".")
	return r.Replace(s)
}

func isTLD(t string) bool {
	if strings.HasPrefix(t, "xn--") {
		return len(t) > 4
	}
	if utf8.RuneCountInString(t) < 2 {
		return false
	}
	for _, r := range t {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return true
}

// validHost reports whether h is a host name: at least two labels of
// letters (any script), digits and hyphens, 1 to 63 bytes each.
func validHost(h string) bool {
	if len(h) < 3 || len(h) > 253 || !strings.Contains(h, ".") {
		return false
	}
	n := 0
	for _, r := range h {
		switch {
		case r == '.':
			if n == 0 {
				return false
			}
			n = 0
			continue
		case r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z':
		case r >= utf8.RuneSelf && unicode.IsLetter(r) || unicode.IsMark(r):
		default:
			return false
		}
		n++
		if n > 63 {
			return false
		}
	}
	return n > 0
}

// isPunycode: an internationalised name, as punycode (xn--) or as written.
func isPunycode(host string) bool {
	if strings.HasPrefix(host, "xn--") || strings.Contains(host, ".xn--") {
		return true
	}
	for i := 0; i < len(host); i++ {
		if host[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// official reports whether host is one of a brand's domains or under one.
func (b *brand) official(host string) bool {
	for _, d := range b.domains {
		if host == d || strings.HasSuffix(host, d) && host[len(host)-len(d)-1] == '.' {
			return true
		}
	}
	return false
}

// lookalikeHost reports whether a label of host (the top-level domain
// aside) imitates a brand's name while host is not the brand's: the same
// name in look-alike letters (Cyrillic, digits, "rn" for m), or next to a
// phishing word ("paypal-secure", "verifyapple"), or, for names of six
// letters or more, one typing slip away ("paypall", "netfix").
func (l *linksRule) lookalikeHost(host string, z *text.Normalizer) bool {
	if len(l.brands) == 0 {
		return false
	}
	var skeletons [8]string // of the labels but the top-level domain
	n := 0
	for label := range strings.SplitSeq(host[:max(0, strings.LastIndexByte(host, '.'))], ".") {
		if n == len(skeletons) {
			break
		}
		if strings.HasPrefix(label, "xn--") {
			dec, ok := punycodeDecode(label[4:])
			if !ok {
				continue
			}
			label = dec
		}
		skeletons[n] = skeleton(foldLabelWith(z, label))
		n++
	}
	for bi := range l.brands {
		b := &l.brands[bi]
		if b.official(host) {
			continue
		}
		for _, sk := range skeletons[:n] {
			if imitates(sk, b.skeleton, b.name) {
				return true
			}
		}
	}
	return false
}

func imitates(label, name, plain string) bool {
	if label == name || strings.ReplaceAll(label, "-", "") == name {
		return true
	}
	for part := range strings.SplitSeq(label, "-") {
		if part == name {
			return true
		}
		for _, a := range affixSkeletons {
			if len(part) == len(name)+len(a) && (strings.HasPrefix(part, name) && part[len(name):] == a || strings.HasSuffix(part, name) && part[:len(a)] == a) {
				return true
			}
		}
		if len(plain) >= 6 && oneEdit(part, name) {
			return true
		}
	}
	return false
}

// oneEdit reports whether a and b differ by exactly one insertion,
// deletion, substitution or swap of neighbours.
func oneEdit(a, b string) bool {
	if a == b {
		return false
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	switch len(a) - len(b) {
	case 0:
		i := 0
		for i < len(a) && a[i] == b[i] {
			i++
		}
		if a[i+1:] == b[i+1:] {
			return true
		}
		return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
	case 1:
		i := 0
		for i < len(b) && a[i] == b[i] {
			i++
		}
		return a[i+1:] == b[i:]
	}
	return false
}

// foldLabel is a label in the text layer's normal form: look-alike letters
// of other scripts, leetspeak digits, accents and case undone. A Latin
// letter in front makes the normal form read a label written only in
// look-alike Cyrillic or Greek as the Latin word it imitates.
func foldLabel(label string) string {
	var z text.Normalizer
	return foldLabelWith(&z, label)
}

func foldLabelWith(z *text.Normalizer, label string) string {
	t := z.Normalize("a " + label).Text
	return strings.TrimPrefix(t, "a ")
}

// skeleton maps the letters that pass for each other in a host name to one:
// i, l and the normal form's 1 (either) to l, "rn" to m, "vv" to w.
func skeleton(s string) string {
	if !strings.ContainsAny(s, "il1rv") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 'i' || c == '1':
			c = 'l'
		case c == 'r' && i+1 < len(s) && s[i+1] == 'n':
			c = 'm'
			i++
		case c == 'v' && i+1 < len(s) && s[i+1] == 'v':
			c = 'w'
			i++
		}
		b = append(b, c)
	}
	return string(b)
}

func isLowerAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if !(s[i] >= 'a' && s[i] <= 'z' || s[i] >= '0' && s[i] <= '9') {
			return false
		}
	}
	return true
}

// punycodeDecode decodes the part of a label after "xn--" (RFC 3492).
func punycodeDecode(s string) (string, bool) {
	const (
		base, tmin, tmax, skew, damp = 36, 1, 26, 38, 700
		initialBias, initialN        = 72, 128
	)
	if len(s) == 0 || len(s) > 63 {
		return "", false
	}
	var out []rune
	pos := 0
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		for j := 0; j < i; j++ {
			if s[j] >= utf8.RuneSelf {
				return "", false
			}
			out = append(out, rune(s[j]))
		}
		pos = i + 1
	}
	n, bias, i := rune(initialN), int32(initialBias), int32(0)
	adapt := func(delta, numPoints int32, first bool) int32 {
		if first {
			delta /= damp
		} else {
			delta /= 2
		}
		delta += delta / numPoints
		k := int32(0)
		for delta > ((base-tmin)*tmax)/2 {
			delta /= base - tmin
			k += base
		}
		return k + (base-tmin+1)*delta/(delta+skew)
	}
	for pos < len(s) {
		oldi, w := i, int32(1)
		for k := int32(base); ; k += base {
			if pos >= len(s) {
				return "", false
			}
			c := s[pos]
			pos++
			var digit int32
			switch {
			case c >= 'a' && c <= 'z':
				digit = int32(c - 'a')
			case c >= 'A' && c <= 'Z':
				digit = int32(c - 'A')
			case c >= '0' && c <= '9':
				digit = int32(c-'0') + 26
			default:
				return "", false
			}
			if digit > (1<<30-i)/w {
				return "", false
			}
			i += digit * w
			t := k - bias
			if t < tmin {
				t = tmin
			} else if t > tmax {
				t = tmax
			}
			if digit < t {
				break
			}
			if w > (1<<30)/(base-t) {
				return "", false
			}
			w *= base - t
		}
		x := int32(len(out) + 1)
		bias = adapt(i-oldi, x, oldi == 0)
		n += rune(i / x)
		i %= x
		if n > utf8.MaxRune || len(out) >= 63 {
			return "", false
		}
		out = append(out, 0)
		copy(out[i+1:], out[i:])
		out[i] = n
		i++
	}
	return string(out), true
}
