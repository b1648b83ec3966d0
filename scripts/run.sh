#!/usr/bin/env bash
# Sets up, builds and runs switchd: `scripts/run.sh [serve flags]`.
# Without flags it serves the built-in default configuration (SIP on UDP and
# TCP port 5060, HTTP API on 127.0.0.1:8080, data in ./switchd-data).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PATH:/usr/local/go/bin" CGO_ENABLED=1
go build -tags flite -o bin/switchd ./cmd/switchd
exec bin/switchd serve "$@"
