#!/usr/bin/env bash
# obfuscate.sh IN.jsonl OUTDIR
# Rewrites the "text" of every line of IN.jsonl with three published obfuscation tools
# (PyPI homoglyphs, npm confusables, npm lunicode) at 40% and 100% of the letters, into
# OUTDIR/<tool>-40.jsonl and OUTDIR/<tool>-100.jsonl, plus OUTDIR/coverage.json (which
# letters each tool can replace at all). Then checks the outputs with check.py.
# The tools are installed into ${GOSHAWK_CACHE:-$HOME/.cache/goshawk}/harassment-eval
# and reused while requirements.txt / package-lock.json are unchanged. Deterministic (seed 17).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 2 ]] || die "usage: obfuscate.sh IN.jsonl OUTDIR"
IN="$1" OUT="$2"
[[ -r "$IN" ]] || die "input $IN is not a readable file"

ensure_venv
ensure_node
mkdir -p "$OUT" || die "cannot create $OUT"
trap 'rm -f "$OUT"/*.tmp' EXIT  # no half-written files left behind on failure
export NODE_PATH="$NODE_DIR/node_modules"

# tool name -> driver command
declare -A DRIVER=(
  [homoglyphs]="$VENV/bin/python $HERE/obf_homoglyphs.py"
  [confusables]="node $HERE/obf_confusables.js"
  [lunicode]="node $HERE/obf_lunicode.js"
)
TOOLS=(homoglyphs confusables lunicode)

: > "$OUT/coverage.json.tmp"
for tool in "${TOOLS[@]}"; do
  ${DRIVER[$tool]} --coverage >> "$OUT/coverage.json.tmp" || die "$tool: --coverage failed"
  for rate in 40 100; do
    dst="$OUT/$tool-$rate.jsonl"
    ${DRIVER[$tool]} "$IN" "$dst.tmp" "$rate" || die "$tool at $rate% failed on $IN"
    mv "$dst.tmp" "$dst"
  done
done
mv "$OUT/coverage.json.tmp" "$OUT/coverage.json"

"$VENV/bin/python" "$HERE/check.py" "$IN" "$OUT" || die "check.py found a problem in $OUT"
