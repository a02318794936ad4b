#!/usr/bin/env bash
# typo_realwords.sh: checks detectors/harassment/typo_realwords.txt against
# Debian's wamerican word list. The harassment detector reads misspelt
# insults ("idoit", "stupd"); the words in that file are English words that
# are one such misspelling away from a term ("garage" from "garbage") and
# are not read as it. Run after changing the terms of a targeted rule; the
# test prints the words to add.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dict_dir="$CACHE/wamerican"
dict="$dict_dir/usr/share/dict/american-english"
if [[ ! -r "$dict" ]]; then
  command -v apt-get >/dev/null || die "apt-get not found (the word list comes from Debian's wamerican package)"
  mkdir -p "$dict_dir"
  log "downloading wamerican into $dict_dir"
  (cd "$dict_dir" && apt-get download wamerican >/dev/null) || die "apt-get download wamerican failed"
  dpkg-deb -x "$dict_dir"/wamerican_*.deb "$dict_dir" || die "dpkg-deb -x wamerican failed"
fi
cd "$HERE/../.."
TYPO_DICT="$dict" go test ./detectors/harassment -run '^TestTypoRealWords$' -count=1 -v
