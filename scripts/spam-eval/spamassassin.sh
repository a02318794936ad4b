#!/usr/bin/env bash
# Compares the spam detector with Debian's SpamAssassin on a blind corpus
# (detectors/spam/testdata/blind/<corpus>), in one run:
#
#   bash scripts/spam-eval/spamassassin.sh [corpus]      # default: a
#
# The detector's figures come from `go test ./detectors/spam -run
# BlindCorpora/<corpus> -v`, which also exports the corpus's messages as
# JSON lines. Each message then becomes a minimal e-mail (From, To, Date,
# Message-ID, Subject "Direct message", the text as the body) in one mbox,
# scored by `spamassassin --local --mbox` (its shipped rules, no network
# tests, no Bayes database: it has never been trained here). A message
# counts as flagged at SpamAssassin's default required score, 5.0, the
# analogue of the detector's medium tier. SpamAssassin is made for e-mail,
# so most of its rules (headers, HTML, relays) have nothing to read in a
# chat message: the comparison says how far content rules alone get.
set -euo pipefail
corpus=${1:-a}
root=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v spamassassin >/dev/null; then
  echo "spamassassin: installing Debian's package" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends spamassassin >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
GOSHAWK_SPAM_BLIND_EXPORT="$work" go test ./detectors/spam -count 1 -run "BlindCorpora/^${corpus}\$" -v | grep -E "blind corpus|by message" || true
python3 - "$work/$corpus.jsonl" "$work/$corpus.mbox" <<'PY'
import json, sys, email.utils, time
src, dst = sys.argv[1], sys.argv[2]
with open(src) as f, open(dst, "w") as out:
    for i, line in enumerate(f):
        m = json.loads(line)
        body = m["text"].replace("\r", "")
        # mbox: escape body lines that start with "From ".
        body = "\n".join((">" + l) if l.startswith("From ") else l for l in body.split("\n"))
        date = email.utils.formatdate(1772000000 + i * 60)
        out.write("From sender@chat.invalid Thu Jan  1 00:00:00 1970\n")
        out.write(f"From: <sender-{i}@chat.invalid>\nTo: <recipient-{i}@chat.invalid>\nDate: {date}\n")
        out.write(f"Message-ID: <{m['id']}@chat.invalid>\nSubject: Direct message\nMIME-Version: 1.0\n")
        out.write("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n")
        out.write(body + "\n\n")
PY
spamassassin --local --mbox < "$work/$corpus.mbox" > "$work/$corpus.out" 2>"$work/sa.err" || { cat "$work/sa.err" >&2; exit 1; }
python3 - "$work/$corpus.jsonl" "$work/$corpus.out" <<'PY'
import json, re, sys
truth = {}
legit = {}
for line in open(sys.argv[1]):
    m = json.loads(line)
    truth[m["id"]] = m["spam"]
    legit.setdefault(m["campaign"], [])
    legit[m["campaign"]].append(m["id"])
text = open(sys.argv[2], encoding="utf-8", errors="replace").read()
flagged, scores = {}, {}
# Each message's headers: Message-ID and X-Spam-Status (folded lines).
for block in re.split(r"\n(?=From sender@chat\.invalid )", text):
    mid = re.search(r"^Message-ID: <([^@>]+)@chat\.invalid>", block, re.M)
    st = re.search(r"^X-Spam-Status: (Yes|No), score=(-?[0-9.]+)", block, re.M)
    if mid and st:
        flagged[mid.group(1)] = st.group(1) == "Yes"
        scores[mid.group(1)] = float(st.group(2))
missing = [i for i in truth if i not in flagged]
if missing:
    sys.exit(f"spamassassin: {len(missing)} messages without a verdict, e.g. {missing[:3]}")
tp = sum(1 for i, s in truth.items() if s and flagged[i])
fp = sum(1 for i, s in truth.items() if not s and flagged[i])
fn = sum(1 for i, s in truth.items() if s and not flagged[i])
camps = {c: ids for c, ids in legit.items()}
spam_found = sum(1 for c, ids in camps.items() if c.startswith("spam/") and any(truth[i] and flagged[i] for i in ids))
spam_total = sum(1 for c in camps if c.startswith("spam/"))
legit_flagged = sum(1 for c, ids in camps.items() if c.startswith("legit/") and any(flagged[i] for i in ids))
legit_total = sum(1 for c in camps if c.startswith("legit/"))
p = tp / max(1, tp + fp); r = tp / max(1, tp + fn)
print(f"spamassassin (required 5.0), by message: precision {p:.3f} ({tp}/{tp+fp}), recall {r:.3f} ({tp}/{tp+fn}); "
      f"spam campaigns found {spam_found}/{spam_total}; legitimate bulk senders flagged {legit_flagged}/{legit_total} "
      f"({100*legit_flagged/max(1,legit_total):.1f}%)")
PY
