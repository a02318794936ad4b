#!/usr/bin/env bash
# profanity_check.sh [--json] IN.jsonl [IN2.jsonl ...]
# Sets up the shared venv (${GOSHAWK_CACHE:-$HOME/.cache/goshawk}/harassment-eval/venv, the
# same one obfuscate.sh uses) and runs profanity_check.py: the alt-profanity-check baseline.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 1 ]] || die "usage: profanity_check.sh [--json] IN.jsonl [IN2.jsonl ...]"
for f in "$@"; do
  [[ "$f" == --json || -r "$f" ]] || die "input $f is not a readable file"
done
ensure_venv
"$VENV/bin/python" "$HERE/profanity_check.py" "$@" || die "profanity_check.py failed"
