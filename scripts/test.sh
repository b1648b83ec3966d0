#!/usr/bin/env bash
# Runs every check and test of switchd, installing the real peers the tests
# drive first. This is exactly what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
export PATH="$PATH:/usr/local/go/bin" CGO_ENABLED=1

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "not gofmt-clean:"; echo "$unformatted"; exit 1; fi
echo "== go vet"
go vet ./...
go vet -tags flite ./...
echo "== go test -race (switchd as built: -tags flite)"
go test -race -count=1 -timeout 25m -tags flite ./...
echo "== go test -race ./tts/ without -tags flite (the no-cgo-speech build)"
go test -race -count=1 ./tts/
