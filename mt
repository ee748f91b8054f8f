#!/usr/bin/env bash
# MemorialTube's launcher: puts the project's Node.js 24 (installed by ./setup.sh into .tools/) first
# on PATH and runs a project script.
#   ./mt demo [--photos DIR] [--music FILE]   start the stack, make a memorial video, print where it is
#   ./mt start                                every service (Ctrl-C stops them)
#   ./mt memorial --photos DIR --out FILE     the CLI against a running gateway
#   ./mt api-key create --email EMAIL [--name NAME]   an API key (printed as the last line)
#   ./mt watch [--project ID] [--name NAME]   follow the event stream, one line per event (resumes by NAME)
#   ./mt test | test:chaos | test:cluster (root) | bench | bench:soak | typecheck | lint | format
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$PWD/.tools/node/bin:$PATH"
cmd=${1:-help}; shift || true
case "$cmd" in
  demo) exec node --import tsx scripts/demo.ts "$@" ;;
  api-key) exec node --import tsx scripts/api-key.ts "$@" ;;
  watch) exec node --import tsx scripts/watch.ts "$@" ;;
  start|memorial|test|test:chaos|test:cluster|bench|typecheck|lint|format|bench:soak) exec pnpm -s run "$cmd" "$@" ;;
  *) sed -n '2,/^set /{/^#/p}' "$0"; exit 2 ;;
esac
