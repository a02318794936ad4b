# Shared setup for scripts/harassment-eval; sourced by obfuscate.sh and profanity_check.sh.
# Installs the pinned tools into the cache dir (never into the repository) and reuses
# them while the pin files are unchanged: a stamp file holds the hash of the pin file.

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${GOSHAWK_CACHE:-$HOME/.cache/goshawk}/harassment-eval"
VENV="$CACHE/venv"
NODE_DIR="$CACHE/node"

die() { echo "harassment-eval: error: $*" >&2; exit 1; }
log() { echo "harassment-eval: $*" >&2; }

# hash of the given files' contents (the stamp of an install)
pins_hash() { cat "$@" | sha256sum | cut -d' ' -f1; }

ensure_venv() {
  local want; want="$(pins_hash "$HERE/requirements.txt")"
  if [[ -x "$VENV/bin/python" && "$(cat "$VENV/.pins" 2>/dev/null)" == "$want" ]]; then
    return 0
  fi
  command -v python3 >/dev/null || die "python3 not found"
  log "creating Python venv in $VENV"
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  python3 -m venv "$VENV" || die "python3 -m venv $VENV failed"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt" \
    || die "pip install -r $HERE/requirements.txt into $VENV failed"
  echo "$want" > "$VENV/.pins"
}

ensure_node() {
  local want; want="$(pins_hash "$HERE/package.json" "$HERE/package-lock.json")"
  if [[ -d "$NODE_DIR/node_modules" && "$(cat "$NODE_DIR/.pins" 2>/dev/null)" == "$want" ]]; then
    return 0
  fi
  command -v node >/dev/null || die "node not found"
  command -v npm >/dev/null || die "npm not found"
  log "installing npm tools in $NODE_DIR"
  rm -rf "$NODE_DIR"
  mkdir -p "$NODE_DIR"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$NODE_DIR/"
  (cd "$NODE_DIR" && npm ci --silent --no-audit --no-fund) \
    || die "npm ci in $NODE_DIR failed (see npm's message above)"
  echo "$want" > "$NODE_DIR/.pins"
}
