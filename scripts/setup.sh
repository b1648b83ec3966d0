#!/usr/bin/env bash
# Installs what switchd needs on a Debian/Ubuntu machine. Idempotent.
#   scripts/setup.sh          build and run dependencies: gcc for cgo (SQLite),
#                             flite1-dev (embedded English text-to-speech,
#                             -tags flite), espeak-ng (other languages, e.g.
#                             Mandarin prompts; run as a subprocess)
#   scripts/setup.sh --test   plus the real peers the tests drive (sipp) and
#                             flite (the program: speech for the DTMF talk-off test),
#                             sox (checks repaired recordings)
#   scripts/setup.sh --bench  plus the benchmark peers (sipp, kamailio)
set -euo pipefail

want_test=0 want_bench=0
for a in "$@"; do
  case "$a" in
    --test) want_test=1 ;;
    --bench) want_test=1; want_bench=1 ;;
    *) echo "usage: $0 [--test|--bench]" >&2; exit 2 ;;
  esac
done

pkgs=(gcc libc6-dev flite1-dev espeak-ng)
[ "$want_test" = 1 ] && pkgs+=(sip-tester flite sox)
[ "$want_bench" = 1 ] && pkgs+=(kamailio procps)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo=sudo
  fi
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Go: the version go.mod names (or newer) must be on PATH.
export PATH="$PATH:/usr/local/go/bin"
need=$(awk '/^go /{print $2; exit}' "$(dirname "$0")/../go.mod")
if ! command -v go >/dev/null; then
  echo "setup: Go $need or newer is needed (https://go.dev/dl/ — install it under /usr/local/go)" >&2
  exit 1
fi
have=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
  echo "setup: Go $have is too old; switchd needs Go $need or newer" >&2
  exit 1
fi
