#!/usr/bin/env bash
# Sets up everything MemorialTube needs on this machine, and says clearly what is wrong when it can't.
# Safe to run again: it only installs or starts what is missing.
#
#   ./setup.sh            check, install what is missing (as root on Debian/Ubuntu), start services
#   ./setup.sh --check    only check; install nothing, start nothing
#
# Exit codes, one per cause:
#   10 Node.js 24 missing and could not be installed     11 pnpm could not be installed
#   12 ffmpeg missing or lacking libx264/aac/xfade/zoompan/loudnorm/perspective
#   13 PostgreSQL not reachable and could not be started  14 NATS with JetStream not reachable
#   15 project dependencies failed to install            16 photo/font tools missing (heif-convert, Noto CJK)
#   17 Chromium missing (browser tests)                  18 database could not be created
#   19 Tesseract OCR with Korean and Arabic missing (caption tests)
set -uo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
TOOLS="$ROOT/.tools/node"
NODE_MAJOR=24
PNPM_VERSION=$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' package.json)
CHECK_ONLY=false
[ "${1:-}" = "--check" ] && CHECK_ONLY=true

DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/memorialtube}
NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }
ok() { printf '  \033[32mok\033[0m %s\n' "$*"; }
die() { local code=$1; shift; printf '\n\033[31msetup failed:\033[0m %s\n' "$*" >&2; exit "$code"; }

IS_ROOT=false; [ "$(id -u)" = 0 ] && IS_ROOT=true
HAS_APT=false; command -v apt-get >/dev/null 2>&1 && HAS_APT=true
APT_UPDATED=false
can_install() { $IS_ROOT && $HAS_APT && ! $CHECK_ONLY; }
apt_install() {
  if ! $APT_UPDATED; then DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1; APT_UPDATED=true; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/tmp/memorialtube-apt.log 2>&1
}
# hint CODE "what" "apt packages": install them, or stop with the exact command to run.
need_packages() {
  local code=$1 what=$2; shift 2
  if can_install; then
    say "installing $what: $*"
    apt_install "$@" || die "$code" "could not install $what with apt (see /tmp/memorialtube-apt.log). Install it by hand: sudo apt-get install $*"
  else
    die "$code" "$what is missing. Install it with: sudo apt-get install $*   (then run ./setup.sh again)"
  fi
}
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
url_host() { local h=${1#*://}; h=${h#*@}; h=${h%%/*}; echo "${h%%:*}"; }
url_port() { local h=${1#*://}; h=${h#*@}; h=${h%%/*}; [[ $h == *:* ]] && echo "${h##*:}" || echo "$2"; }

# ---------------------------------------------------------------- Node.js 24 + pnpm
say "Node.js $NODE_MAJOR and pnpm $PNPM_VERSION"
export PATH="$TOOLS/bin:$PATH"
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" != "$NODE_MAJOR" ]; then
  command -v npm >/dev/null 2>&1 || die 10 "Node.js is missing. Install Node.js (any version with npm), e.g. sudo apt-get install nodejs npm, then run ./setup.sh again."
  $CHECK_ONLY && die 10 "Node.js $NODE_MAJOR is needed (found $(node --version 2>/dev/null || echo none)); run ./setup.sh without --check to install it into .tools/"
  say "installing Node.js $NODE_MAJOR into .tools/node (the machine has $(node --version 2>/dev/null || echo none))"
  npm i -g --prefix "$TOOLS" "node@$NODE_MAJOR" >/tmp/memorialtube-node.log 2>&1 || die 10 "could not install Node.js $NODE_MAJOR from the npm registry (see /tmp/memorialtube-node.log)"
  hash -r
  [ "$(node_major)" = "$NODE_MAJOR" ] || die 10 "Node.js $NODE_MAJOR was installed into .tools/node but does not run (see /tmp/memorialtube-node.log)"
fi
ok "node $(node --version)"
if [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  $CHECK_ONLY && die 11 "pnpm $PNPM_VERSION is needed; run ./setup.sh without --check"
  npm i -g --prefix "$TOOLS" -E "pnpm@$PNPM_VERSION" >/tmp/memorialtube-pnpm.log 2>&1 || die 11 "could not install pnpm $PNPM_VERSION (see /tmp/memorialtube-pnpm.log)"
  hash -r
  [ "$(pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ] || die 11 "pnpm $PNPM_VERSION was installed into .tools/node but does not run"
fi
ok "pnpm $(pnpm --version)"

# ---------------------------------------------------------------- ffmpeg
say "ffmpeg with libx264, aac and the filters xfade, zoompan, perspective, loudnorm"
ffmpeg_ok() {
  command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || return 1
  local enc filt; enc=$(ffmpeg -hide_banner -encoders 2>/dev/null); filt=$(ffmpeg -hide_banner -filters 2>/dev/null)
  grep -q libx264 <<<"$enc" && grep -qE '^ A.{5} aac ' <<<"$enc" || return 1
  for f in xfade zoompan perspective loudnorm; do grep -qE "^ ... $f " <<<"$filt" || return 1; done
}
ffmpeg_ok || need_packages 12 "ffmpeg (with libx264 and aac)" ffmpeg
ffmpeg_ok || die 12 "ffmpeg is installed but lacks libx264, aac or one of the filters xfade/zoompan/perspective/loudnorm. Install a full build: sudo apt-get install ffmpeg"
ok "$(ffmpeg -hide_banner -version | head -1 | cut -d' ' -f1-3)"

# ---------------------------------------------------------------- photo tools and fonts
say "HEIC decoding (heif-convert) and fonts for every script (Noto CJK)"
has_cjk() { [ "$(fc-list 2>/dev/null | grep -ci 'Noto S[ae][nr][si][f ]*CJK')" -gt 0 ]; }  # no grep -q: with pipefail it breaks the pipe
if ! command -v heif-convert >/dev/null || ! has_cjk; then
  need_packages 16 "heif-convert and Noto fonts" libheif-examples fonts-noto-cjk fonts-noto-core fontconfig
fi
command -v heif-convert >/dev/null || die 16 "heif-convert is missing: sudo apt-get install libheif-examples"
has_cjk || die 16 "the Noto CJK fonts are missing (Korean names would not render): sudo apt-get install fonts-noto-cjk"
ok "heif-convert, Noto CJK fonts"

# ---------------------------------------------------------------- Chromium (browser tests only)
say "Chromium for the browser tests"
if ! command -v chromium >/dev/null; then
  if can_install; then need_packages 17 "Chromium" chromium; else say "  chromium is missing: the browser tests need it (sudo apt-get install chromium)"; fi
fi
command -v chromium >/dev/null && ok "$(chromium --version 2>/dev/null | head -1)"

# ---------------------------------------------------------------- Tesseract (caption tests only)
say "Tesseract OCR with Korean and Arabic, for the caption tests"
has_ocr() { command -v tesseract >/dev/null && [ "$(tesseract --list-langs 2>/dev/null | grep -cx 'kor\|ara')" -eq 2 ]; }  # no grep -q: with pipefail it breaks the pipe
if ! has_ocr; then
  if can_install; then need_packages 19 "Tesseract OCR (Korean, Arabic)" tesseract-ocr tesseract-ocr-kor tesseract-ocr-ara
  else say "  Tesseract is missing: the caption tests read captions back with it (sudo apt-get install tesseract-ocr tesseract-ocr-kor tesseract-ocr-ara)"; fi
fi
has_ocr && ok "$(tesseract --version 2>/dev/null | head -1), languages kor and ara"

# ---------------------------------------------------------------- PostgreSQL
PGHOST_=$(url_host "$DATABASE_URL"); PGPORT_=$(url_port "$DATABASE_URL" 5432)
say "PostgreSQL at $PGHOST_:$PGPORT_"
start_postgres() {
  local v; v=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  [ -n "$v" ] && pg_ctlcluster --skip-systemctl-redirect "$v" main start >/dev/null 2>&1
  for _ in $(seq 1 30); do port_open "$PGHOST_" "$PGPORT_" && return 0; sleep 0.5; done; return 1
}
if ! port_open "$PGHOST_" "$PGPORT_"; then
  if [[ $PGHOST_ == 127.0.0.1 || $PGHOST_ == localhost ]] && ! $CHECK_ONLY; then
    command -v pg_ctlcluster >/dev/null || need_packages 13 "PostgreSQL" postgresql
    if $IS_ROOT; then
      # trust local TCP connections for the postgres user, as the default URL expects
      v=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
      hba=/etc/postgresql/$v/main/pg_hba.conf
      if [ -f "$hba" ] && ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"; fi
    fi
    start_postgres || die 13 "PostgreSQL is installed but did not start on $PGHOST_:$PGPORT_. Start it (pg_ctlcluster <version> main start) or set DATABASE_URL."
  else
    die 13 "PostgreSQL is not reachable at $PGHOST_:$PGPORT_. Start it, or set DATABASE_URL to a reachable server."
  fi
fi
ok "postgres reachable"
DB=${DATABASE_URL##*/}; DB=${DB%%\?*}
ADMIN_URL="${DATABASE_URL%/*}/postgres"
if command -v psql >/dev/null; then
  if ! psql "$ADMIN_URL" -tAc "select 1 from pg_database where datname='$DB'" 2>/dev/null | grep -q 1; then
    $CHECK_ONLY || psql "$ADMIN_URL" -qc "create database \"$DB\"" >/dev/null 2>&1 || die 18 "could not create the database $DB on $PGHOST_:$PGPORT_ (does the user in DATABASE_URL have the right to create databases?)"
  fi
  ok "database $DB"
else
  ok "database $DB (psql missing: the gateway creates it at start)"
fi

# ---------------------------------------------------------------- NATS with JetStream
NHOST=$(url_host "$NATS_URL"); NPORT=$(url_port "$NATS_URL" 4222)
say "NATS with JetStream at $NHOST:$NPORT"
if ! port_open "$NHOST" "$NPORT"; then
  if [[ $NHOST == 127.0.0.1 || $NHOST == localhost ]] && ! $CHECK_ONLY; then
    command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || need_packages 14 "the NATS server" nats-server
    NATS_BIN=$(command -v nats-server || echo /usr/sbin/nats-server)
    mkdir -p "$ROOT/data/nats"
    nohup "$NATS_BIN" -a "$NHOST" -p "$NPORT" -js -sd "$ROOT/data/nats" >"$ROOT/data/nats.log" 2>&1 &
    for _ in $(seq 1 30); do port_open "$NHOST" "$NPORT" && break; sleep 0.3; done
    port_open "$NHOST" "$NPORT" || die 14 "nats-server did not start on $NHOST:$NPORT (see data/nats.log)"
  else
    die 14 "NATS is not reachable at $NHOST:$NPORT. Start nats-server with -js, or set NATS_URL."
  fi
fi
ok "nats reachable (JetStream is checked when the services start)"

# ---------------------------------------------------------------- project dependencies
say "project dependencies (pnpm install)"
if ! $CHECK_ONLY; then
  pnpm install --frozen-lockfile >/tmp/memorialtube-pnpm-install.log 2>&1 || die 15 "pnpm install failed (see /tmp/memorialtube-pnpm-install.log)"
fi
[ -d node_modules/.pnpm ] || die 15 "dependencies are not installed: run ./setup.sh without --check"
node -e "import('sharp').then(s=>s.default.versions.vips)" >/dev/null 2>&1 || (cd packages/media && node --input-type=module -e "await import('sharp')") >/dev/null 2>&1 || die 15 "sharp did not load (see /tmp/memorialtube-pnpm-install.log)"
ok "dependencies installed; the S3 server (s3rver) comes with them and runs with ./mt start"

say "ready. Next: ./mt demo (a memorial video from sample photos) or ./mt test"
