#!/usr/bin/env bash
# End-to-end ACD benchmark (issue 7): 200 simultaneous callers into 3 queues
# served by 50 sipp agents with short talk times, zero lost contacts.
#
#   bench/acd.sh                 # the full run: RUNS=3 runs of 600 calls (~3 minutes)
#   QUICK=1 bench/acd.sh         # one run of 300 calls (~1 minute with the build)
#   QUICK=1 PROFILE=1 bench/acd.sh   # and a CPU profile of switchd during the run
#   CALLS=1000 RUNS=1 TALK_MS=1000 bench/acd.sh   # other shapes
#
# Setup (once, in WORK/template): a switchd database with 50 extensions
# 3001..3050 (bench/cmd/mkusers, password pw<N>) and 50 agents a01..a50
# (`switchd agent add`), agent aNN on device 30NN, in queue q((N%3)+1) and,
# for even N, also in q(((N+1)%3)+1): each queue has ~25 members, half of
# them shared with another queue, so the engine routes across queues. The
# config (WORK/switchd.yaml): SIP on udp 127.0.0.1:SIP_PORT, HTTP on
# 127.0.0.1:HTTP_PORT, trunk "carrier" inbound by source address
# 127.0.0.2/32, DIDs +862155550301..303 -> queues q1..q3 (WORK/queues/,
# longest-idle, offer_timeout 10s, wrap_up 0, no max_wait, no
# announcements), qualify off (sipp does not answer OPTIONS), music on hold
# a 6 s 8 kHz WAV of tones (WORK/moh/), rtp_timeout 0 (nobody sends RTP).
#
# Each run, on a fresh copy of the template data dir:
#  1. switchd starts (pinned to SERVER_CPU); a UDP sink (bench/acd/sink.py)
#     on 127.0.0.2:SINK_PORT takes the RTP switchd sends (music on hold);
#  2. one sipp registers the 50 extensions from 127.0.0.1:AGENT_PORT
#     (bench/calls/register.xml, digest auth); GET /api/v1/registrations must
#     then show 50 bindings on that port;
#  3. ONE sipp UAS on AGENT_PORT (bench/acd/agent.xml) is every agent's
#     phone: rings 200 ms, answers, talks TALK_MS, sends the BYE;
#  4. the 50 agents log in (POST /api/v1/agents/aNN/state available);
#  5. the callers: sipp as the carrier from 127.0.0.2:CALLER_PORT
#     (bench/acd/caller.xml), -r RATE -l CONC -m CALLS, the DIDs in turn in
#     a shuffled SEQUENTIAL injection file; switchd answers each call in its
#     queue and the caller waits (music) until the agent's BYE;
#  6. afterwards: sipp callers'/agents' successful and failed calls, the
#     queues' stats from GET /api/v1/queues/stats (joined, answered,
#     abandoned, overflowed, cancelled, lost, ASA, longest answered wait),
#     from GET /api/v1/queues/events: offers, missed offers, answered calls
#     per agent, and the time from an agent's queue_completed to their next
#     queue_offered (the engine's dispatch while callers wait); agents' final
#     states; switchd's CPU (utime+stime, /proc/PID/stat) per answered call
#     over the callers' run, the peak of goroutines and RSS sampled from
#     /metrics every second during it, VmHWM, and WARN/ERROR lines in
#     switchd's log. With PROFILE=1, a CPU profile during run 1.
# Lost contacts = joined - answered - abandoned (the API's counters summed
# over the queues; overflowed, cancelled and queue_lost are reported too,
# none expected: no max_wait, nobody hangs up while waiting). A run passes
# when lost is 0, nothing was abandoned or left waiting, every caller and
# every agent call succeeded and every call joined a queue.
#
# Output under WORK: runs.csv (one row per run), queues.csv (per queue per
# run), summary.md (medians), raw sipp / switchd files; the summary is also
# written to RESULTS (default bench/results/acd.md for the full run, none
# for QUICK). All traffic stays on 127.0.0.0/8; every process is bounded by
# timeout(1) and every sipp by -m and -timeout. The machine is shared:
# before each run the script waits up to QUIET_WAIT s for both cores to be
# under QUIET_PCT% busy and records what it saw; switchd and sipp run at
# nice NICE. SWITCHD_BIN (another build) must have the same database schema
# as the tree's bench/cmd/mkusers.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
DIR=$REPO/bench/acd
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	: "${CALLS:=300}" "${RUNS:=1}" "${RESULTS:=}"
fi
CALLS=${CALLS:-600}           # calls per run
RUNS=${RUNS:-3}
RESULTS=${RESULTS-$REPO/bench/results/acd.md}
CONC=${CONC:-200}             # simultaneous callers (sipp -l)
RATE=${RATE:-50}              # new calls per second until CONC are up (sipp -r)
TALK_MS=${TALK_MS:-2000}      # agent talk time (sipp -d)
AGENTS=${AGENTS:-50}          # 1..99
RUN_LIMIT=${RUN_LIMIT:-}      # s a caller run may take; default from CALLS
PROFILE=${PROFILE:-0}         # 1: a CPU profile of switchd during run 1 (WORK/switchd.cpu.pprof, .top)
PROFILE_S=${PROFILE_S:-15}    # its length, s (starts 3 s into the run)
WORK=${WORK:-/tmp/acdbench/run.$$}
SERVER_CPU=${SERVER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
NICE=${NICE:--15}
QUIET_PCT=${QUIET_PCT:-30}
QUIET_WAIT=${QUIET_WAIT:-8}
# addresses (other benchmarks: 15060/16060, 17060-17090, 35060-38080)
SIP_PORT=${SIP_PORT:-27060}
HTTP_PORT=${HTTP_PORT:-28780}
CALLER_PORT=${CALLER_PORT:-27061}   # on 127.0.0.2
AGENT_PORT=${AGENT_PORT:-27062}
SINK_PORT=${SINK_PORT:-27064}       # on 127.0.0.2
AGENT_MEDIA=${AGENT_MEDIA:-27100}   # sipp's own (unused) media sockets
CALLER_MEDIA=${CALLER_MEDIA:-27110} # on 127.0.0.2
RTP_MIN=${RTP_MIN:-36000}
RTP_MAX=${RTP_MAX:-37999}
SWITCHD_BIN=${SWITCHD_BIN:-}
SIPP=${SIPP:-sipp}
HZ=$(getconf CLK_TCK)
# a run's time bound: ramp-up, CALLS at ~AGENTS/(talk+0.5 s) calls/s, twice over, plus slack
[ -n "$RUN_LIMIT" ] || RUN_LIMIT=$((CALLS * (TALK_MS + 500) * 2 / AGENTS / 1000 + CONC / RATE + 60))

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
DATA=$WORK/data
API=http://127.0.0.1:$HTTP_PORT
log() { echo "[$(date +%T)] $*" >&2; }
die() { log "$*"; exit 1; }

PIDS=()
SERVER_PID=
cleanup() {
	local p
	for p in "${PIDS[@]}" $SERVER_PID; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}" $SERVER_PID; do wait "$p" 2>/dev/null || true; done
	PIDS=()
	SERVER_PID=
}
trap cleanup EXIT

command -v "$SIPP" >/dev/null || die "sipp missing: apt-get install sip-tester"
command -v jq >/dev/null || die "jq missing: apt-get install jq"
[ "$AGENTS" -ge 1 ] && [ "$AGENTS" -le 99 ] || die "AGENTS must be 1..99"

# --- helpers (conventions of bench/calls.sh) -----------------------------------

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
core_busy() { awk -v c="cpu$1" '$1 == c {print $2+$3+$4+$7+$8+$9}' /proc/stat; }
median() { tr ' ' '\n' | { grep -E '^-?[0-9.]+$' || true; } | sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# stf_col FILE NAME: column NAME of the last line of a sipp statistics file
stf_col() { awk -F';' -v n="$2" 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == n) c = i} END {print (c ? $c : "")}' "$1" 2>/dev/null; }
# stf_max FILE NAME: the largest value of column NAME over the file
stf_max() { awk -F';' -v n="$2" 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == n) c = i; next} c && $c + 0 > m {m = $c + 0} END {print m + 0}' "$1" 2>/dev/null; }
# hms_ms "HH:MM:SS:uuuuuu" (sipp's statistics times) -> milliseconds
hms_ms() { echo "$1" | awk -F: 'NF == 4 {printf "%.1f", (($1 * 60 + $2) * 60 + $3) * 1000 + $4 / 1000; next} {print "-"}'; }
# rtd_p99 FILE: upper bound (ms) of the ResponseTimeRepartition1 bucket holding the 99th percentile
rtd_p99() {
	awk -F';' 'NR == 1 {for (i = 1; i <= NF; i++) if ($i ~ /^ResponseTimeRepartition1_/) {c[++k] = i; b[k] = substr($i, 26); sub(/^</, "", b[k])}}
		END {for (j = 1; j <= k; j++) t += $c[j]; if (t == 0) {print "-"; exit}
			for (j = 1; j <= k; j++) {s += $c[j]; if (s >= 0.99 * t) {print b[j]; exit}}}' "$1" 2>/dev/null
}
# sample: "goroutines rss_mib" of switchd from /metrics
sample() {
	curl -fs --max-time 2 "$API/metrics" 2>/dev/null |
		awk '/^go_goroutines / {g = $2} /^process_resident_memory_bytes / {r = $2} END {printf "%d %.1f\n", g, r / 1048576}'
}
api() { curl -fsS --max-time 10 -H "Authorization: Bearer $TOKEN" "$@"; }
# port_free PROTO IP PORT
port_free() { ! ss -Hln"$1" "sport = :$3" 2>/dev/null | grep -q "$2:$3\|\*:$3\|0.0.0.0:$3"; }
# wait_quiet: up to QUIET_WAIT s until SERVER_CPU and GEN_CPU are both under QUIET_PCT% busy; prints "s% g%"
wait_quiet() {
	local i s0 g0 s1 g1 sp=0 gp=0
	for i in $(seq "$QUIET_WAIT"); do
		s0=$(core_busy "$SERVER_CPU"); g0=$(core_busy "$GEN_CPU"); sleep 1
		s1=$(core_busy "$SERVER_CPU"); g1=$(core_busy "$GEN_CPU")
		sp=$(((s1 - s0) * 100 / HZ)); gp=$(((g1 - g0) * 100 / HZ))
		[ "$sp" -lt "$QUIET_PCT" ] && [ "$gp" -lt "$QUIET_PCT" ] && break
	done
	echo "$sp $gp"
}
agent_id() { printf 'a%02d' "$1"; }
agent_ext() { echo $((3000 + $1)); }

# --- build and template ----------------------------------------------------------

log "work directory $WORK"
log "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
log "sipp: $($SIPP -v 2>&1 | grep -o 'SIPp v[^ ,-]*' | head -1); go: $(go version | cut -d' ' -f3)"
log "CALLS=$CALLS RUNS=$RUNS CONC=$CONC RATE=$RATE TALK_MS=$TALK_MS AGENTS=$AGENTS RUN_LIMIT=${RUN_LIMIT}s"
T0=$(date +%s)

log "building switchd (-tags flite) and mkusers"
(
	cd "$REPO"
	[ -n "$SWITCHD_BIN" ] || timeout 600 go build -tags flite -o "$WORK/switchd" ./cmd/switchd
	timeout 300 go build -o "$WORK/mkusers" ./bench/cmd/mkusers
)
[ -z "$SWITCHD_BIN" ] || cp "$SWITCHD_BIN" "$WORK/switchd"

for p in "udp 127.0.0.1 $SIP_PORT" "tcp 127.0.0.1 $HTTP_PORT" "udp 127.0.0.2 $CALLER_PORT" "udp 127.0.0.1 $AGENT_PORT" "udp 127.0.0.2 $SINK_PORT"; do
	# shellcheck disable=SC2086
	set -- $p
	port_free "${1:0:1}" "$2" "$3" || die "port $1 $2:$3 is in use: set SIP_PORT/HTTP_PORT/CALLER_PORT/AGENT_PORT/SINK_PORT"
done

mkdir -p "$WORK/queues" "$WORK/ivr" "$WORK/moh"
# music on hold: 6 s of 16-bit 8 kHz mono, three tones in turn (switchd encodes it to G.711 per caller)
python3 - "$WORK/moh/music.wav" <<'EOF'
import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb")
w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * (392, 440, 494)[i // 16000] * i / 8000)))
                       for i in range(48000)))
w.close()
EOF
{
	echo "queues:"
	for q in q1 q2 q3; do
		cat <<EOF
  - name: $q
    strategy: longest-idle
    offer_timeout: 10s
    wrap_up: 0s
EOF
	done
} >"$WORK/queues/queues.yaml"

cat >"$WORK/switchd.yaml" <<EOF
data_dir: $DATA
sip:
  listen: ["udp://127.0.0.1:$SIP_PORT"]
  qualify_interval: 0s   # sipp does not answer OPTIONS
  drain_timeout: 2s
media:
  rtp_ports: $RTP_MIN-$RTP_MAX
  bind_address: 127.0.0.1
  rtp_timeout: 0s        # neither callers nor agents send RTP
log: {level: info}
http: {listen: 127.0.0.1:$HTTP_PORT}
prompts:
  dir: $WORK/prompts
  moh_dir: $WORK/moh     # one 8 kHz WAV (above)
ivr: {dir: $WORK/ivr}
acd: {dir: $WORK/queues}
numbering: {country_code: "86", national_prefix: "0", international_prefix: "00"}
trunks:
  - name: carrier
    host: 127.0.0.2
    port: $CALLER_PORT
    transport: udp
    inbound:
      addresses: [127.0.0.2/32]
dids:
  - {number: "+862155550301", trunks: [carrier], queue: q1}
  - {number: "+862155550302", trunks: [carrier], queue: q2}
  - {number: "+862155550303", trunks: [carrier], queue: q3}
EOF
"$WORK/switchd" validate -c "$WORK/switchd.yaml" >"$WORK/validate.out" 2>&1 || { cat "$WORK/validate.out" >&2; die "switchd validate failed"; }

log "template: $AGENTS extensions 3001.. and agents a01.. (switchd agent add)"
TEMPLATE=$WORK/template
rm -rf "$DATA" "$TEMPLATE"
mkdir -p "$DATA"
"$WORK/mkusers" -db "$DATA/switchd.db" -first 3001 -n "$AGENTS" -csv "$WORK/agents_reg.csv"
for i in $(seq "$AGENTS"); do
	qs=(--queue "q$((i % 3 + 1))")
	[ $((i % 2)) = 0 ] && qs+=(--queue "q$(((i + 1) % 3 + 1))")
	timeout 30 "$WORK/switchd" -c "$WORK/switchd.yaml" agent add "$(agent_id "$i")" --name "Agent $i" \
		--device "$(agent_ext "$i")" "${qs[@]}" >>"$WORK/agent_add.out" 2>&1 ||
		{ cat "$WORK/agent_add.out" >&2; die "agent add $(agent_id "$i") failed"; }
done
timeout 30 "$WORK/switchd" -c "$WORK/switchd.yaml" agent list >"$WORK/agents.txt" 2>&1
for q in q1 q2 q3; do
	log "  $q: $(grep -cw "$q" "$WORK/agents.txt" || true) members"
done
mv "$DATA" "$TEMPLATE"

# callers: the DIDs in turn (national format), shuffled; calling numbers 0138NNNNNNN
{
	echo SEQUENTIAL
	for i in $(seq "$CALLS"); do
		printf '0215555030%d;0138%07d\n' $((i % 3 + 1)) "$i"
	done | awk 'BEGIN {srand(7)} {printf "%.8f %s\n", rand(), $0}' | sort -k1,1 | cut -d' ' -f2
} >"$WORK/callers.csv"

# --- one run ---------------------------------------------------------------------

CSV=$WORK/runs.csv
QCSV=$WORK/queues.csv
echo "run,calls,caller_ok,caller_fail,caller_retrans,caller_unexpected,agent_ok,agent_fail,max_concurrent,wall_s,calls_per_s,joined,answered,abandoned,overflowed,cancelled,queue_lost,lost,waiting_after,asa_s,longest_answered_s,answer_p99_ms,call_len_s,offers,offers_missed,per_agent,reoffer_ms,switchd_cpu_s,cpu_ms_per_call,switchd_cpu_pct,peak_goroutines,peak_rss_mib,vmhwm_mib,idle_goroutines,idle_rss_mib,goroutines_after,sink_pkts,warn_lines,error_lines,quiet_before,pass" >"$CSV"
echo "run,queue,joined,answered,abandoned,overflowed,cancelled,lost,asa_s,longest_answered_s,aht_s,service_level" >"$QCSV"

start_switchd() {
	rm -rf "$DATA"
	cp -a "$TEMPLATE" "$DATA"
	: >"$WORK/switchd_$1.log"
	timeout -k 5 $((RUN_LIMIT + 300)) nice -n "$NICE" taskset -c "$SERVER_CPU" "$WORK/switchd" serve -c "$WORK/switchd.yaml" \
		>>"$WORK/switchd_$1.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 100); do
		curl -fs --max-time 1 "$API/healthz" >/dev/null 2>&1 && [ -s "$DATA/admin.token" ] && break
		sleep 0.1
	done
	curl -fs --max-time 1 "$API/healthz" >/dev/null || { tail "$WORK/switchd_$1.log" >&2; die "switchd did not start"; }
	# timeout(1) runs switchd as its child (nice and taskset exec it)
	local c
	c=$(pgrep -P "$SERVER_PID" | head -1 || true)
	[ -n "$c" ] && SWITCHD_PID=$c || SWITCHD_PID=$SERVER_PID
	TOKEN=$(cat "$DATA/admin.token")
}

stop_switchd() {
	[ -n "$SERVER_PID" ] || return 0
	kill "$SWITCHD_PID" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$SWITCHD_PID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$SWITCHD_PID" 2>/dev/null; then kill -9 "$SWITCHD_PID" 2>/dev/null || true; fi
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

one_run() {
	local run=$1 tag=run$1
	log "run $run: starting switchd"
	start_switchd "$tag"
	rm -f "$WORK/sink_$tag.txt"
	timeout -k 5 $((RUN_LIMIT + 120)) taskset -c "$GEN_CPU" python3 "$DIR/sink.py" 127.0.0.2 "$SINK_PORT" $((RUN_LIMIT + 100)) \
		"$WORK/sink_$tag.txt" 2>"$WORK/sink_$tag.err" &
	local sink=$!
	PIDS+=("$sink")

	# 1. the extensions register from AGENT_PORT, the port the UAS then answers on
	timeout 60 "$SIPP" "127.0.0.1:$SIP_PORT" -sf "$REPO/bench/calls/register.xml" -inf "$WORK/agents_reg.csv" \
		-i 127.0.0.1 -p "$AGENT_PORT" -mp "$AGENT_MEDIA" -r 100 -m "$AGENTS" -timeout 30s -nostdin \
		-trace_stat -stf "$WORK/register_$tag.csv" -trace_err -error_file "$WORK/register_$tag.err" >"$WORK/register_$tag.out" 2>&1 || true
	local regok bindings
	regok=$(stf_col "$WORK/register_$tag.csv" 'SuccessfulCall(C)')
	bindings=$(api "$API/api/v1/registrations" | jq --arg p ":$AGENT_PORT" '[.registrations[] | select(.contact | contains($p))] | length')
	log "run $run: registered $regok of $AGENTS; switchd shows $bindings bindings on port $AGENT_PORT"
	[ "$bindings" = "$AGENTS" ] || die "expected $AGENTS bindings, see $WORK/register_$tag.*"

	# 2. the agents' phones: one UAS for every extension
	local ulimit=$((RUN_LIMIT + 30))
	rm -f "$WORK/agent_$tag.csv"
	timeout -k 5 $((ulimit + 10)) nice -n "$NICE" taskset -c "$GEN_CPU" "$SIPP" -sf "$DIR/agent.xml" \
		-i 127.0.0.1 -p "$AGENT_PORT" -mp "$AGENT_MEDIA" -key rtp_ip 127.0.0.2 -key rtp_port "$SINK_PORT" \
		-d "$TALK_MS" -m "$CALLS" -l 1000 -timeout "${ulimit}s" -buff_size 4194304 -nostdin \
		-trace_stat -stf "$WORK/agent_$tag.csv" -fd 1 -trace_err -error_file "$WORK/agent_$tag.err" >"$WORK/agent_$tag.out" 2>&1 &
	local uas=$!
	PIDS+=("$uas")
	for _ in $(seq 50); do
		ss -Hlnu "sport = :$AGENT_PORT" | grep -q "127.0.0.1:$AGENT_PORT" && break
		sleep 0.1
	done

	# 3. the agents log in
	local i
	for i in $(seq "$AGENTS"); do
		api -X POST -H 'Content-Type: application/json' -d '{"state":"available"}' \
			"$API/api/v1/agents/$(agent_id "$i")/state" -o /dev/null || die "login of $(agent_id "$i") failed"
	done
	api "$API/api/v1/queues" >"$WORK/queues_before_$tag.json"
	log "run $run: agents logged in; queues (name members ready): $(jq -r '[.queues[] | "\(.name) \(.members) \(.ready)"] | join(", ")' "$WORK/queues_before_$tag.json")"
	local ready
	ready=$(api "$API/api/v1/agents" | jq '[.agents[] | select(.state == "available")] | length')
	[ "$ready" = "$AGENTS" ] || die "$ready of $AGENTS agents available"

	# 4. the callers
	local quiet idle
	quiet=$(wait_quiet | tr ' ' '/')
	idle=$(sample)
	local c0 t0 t1 c1
	rm -f "$WORK/caller_$tag.csv" "$WORK/samples_$tag.txt"
	(
		# goroutines and RSS every second while the callers run (bounded)
		for _ in $(seq "$RUN_LIMIT"); do
			sample >>"$WORK/samples_$tag.txt"
			sleep 1
		done
	) &
	local sampler=$!
	PIDS+=("$sampler")
	local profiler=
	if [ "$PROFILE" = 1 ] && [ "$run" = 1 ]; then
		(
			sleep 3
			api -o "$WORK/switchd.cpu.pprof" --max-time $((PROFILE_S + 10)) "$API/debug/pprof/profile?seconds=$PROFILE_S" || true
		) &
		profiler=$!
		PIDS+=("$profiler")
	fi
	c0=$(cpu_ticks "$SWITCHD_PID"); t0=$(date +%s.%N)
	log "run $run: $CALLS callers, -r $RATE -l $CONC, talk $TALK_MS ms (bound ${RUN_LIMIT}s)"
	timeout -k 5 $((RUN_LIMIT + 10)) nice -n "$NICE" taskset -c "$GEN_CPU" "$SIPP" "127.0.0.1:$SIP_PORT" \
		-sf "$DIR/caller.xml" -inf "$WORK/callers.csv" -i 127.0.0.2 -p "$CALLER_PORT" -mp "$CALLER_MEDIA" \
		-key rtp_ip 127.0.0.2 -key rtp_port "$SINK_PORT" \
		-r "$RATE" -rp 1000 -l "$CONC" -m "$CALLS" -timeout "${RUN_LIMIT}s" -buff_size 4194304 -nostdin \
		-trace_stat -stf "$WORK/caller_$tag.csv" -fd 1 -trace_err -error_file "$WORK/caller_$tag.err" \
		>"$WORK/caller_$tag.out" 2>&1 || true
	c1=$(cpu_ticks "$SWITCHD_PID"); t1=$(date +%s.%N)
	kill "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
	# the UAS ends by itself after CALLS calls; unanswered calls would keep it: at most 10 s more
	for _ in $(seq 100); do kill -0 "$uas" 2>/dev/null || break; sleep 0.1; done
	kill "$uas" 2>/dev/null || true
	wait "$uas" 2>/dev/null || true
	sleep 1

	# 5. results
	local cok cfail cretr cunexp aok afail maxc wall rate_s answer_ms call_len
	cok=$(stf_col "$WORK/caller_$tag.csv" 'SuccessfulCall(C)'); cok=${cok:-0}
	cfail=$(stf_col "$WORK/caller_$tag.csv" 'FailedCall(C)'); cfail=${cfail:-0}
	cretr=$(stf_col "$WORK/caller_$tag.csv" 'Retransmissions(C)'); cretr=${cretr:--}
	cunexp=$(stf_col "$WORK/caller_$tag.csv" 'FailedUnexpectedMessage(C)'); cunexp=${cunexp:--}
	aok=$(stf_col "$WORK/agent_$tag.csv" 'SuccessfulCall(C)'); aok=${aok:-0}
	afail=$(stf_col "$WORK/agent_$tag.csv" 'FailedCall(C)'); afail=${afail:-0}
	maxc=$(stf_max "$WORK/caller_$tag.csv" 'CurrentCall')
	answer_ms=$(rtd_p99 "$WORK/caller_$tag.csv")
	call_len=$(hms_ms "$(stf_col "$WORK/caller_$tag.csv" 'CallLength(C)')")
	[ "$call_len" = - ] || call_len=$(echo "scale=2; $call_len / 1000" | bc)
	wall=$(echo "$t1 - $t0" | bc | awk '{printf "%.1f", $1}')
	rate_s=$(echo "$cok $wall" | awk '{printf "%.1f", $1 / $2}')

	api "$API/api/v1/queues/stats?since=2000-01-01T00:00:00Z" >"$WORK/stats_$tag.json"
	api "$API/api/v1/queues/events?since=2000-01-01T00:00:00Z&limit=10000" >"$WORK/events_$tag.json" || echo '{"events":[]}' >"$WORK/events_$tag.json"
	api "$API/api/v1/agents" >"$WORK/agents_after_$tag.json"
	local after
	after=$(sample | cut -d' ' -f1)
	jq -r --arg r "$run" '.queues[] | [$r, .queue, .joined, .answered, .abandoned, .overflowed, .cancelled, .lost, .asa_s, .longest_answered_s, .aht_s, (.service_level // "-")] | @csv' \
		"$WORK/stats_$tag.json" | tr -d '"' >>"$QCSV"
	local joined answered abandoned overflowed cancelled qlost waiting asa longest lost
	read -r joined answered abandoned overflowed cancelled qlost waiting asa longest < <(jq -r '
		[.queues[]] as $q | ([$q[].answered] | add) as $a |
		"\([$q[].joined] | add) \($a) \([$q[].abandoned] | add) \([$q[].overflowed] | add) \([$q[].cancelled] | add) \([$q[].lost] | add) \([$q[].waiting] | add) \(if $a > 0 then ([$q[] | .asa_s * .answered] | add) / $a * 100 | round / 100 else "-" end) \([$q[].longest_answered_s] | max * 100 | round / 100)"' "$WORK/stats_$tag.json")
	lost=$((joined - answered - abandoned))
	local offers=- missed=- per_agent=- regap=-
	if [ "$(jq '.events | length' "$WORK/events_$tag.json")" -lt 10000 ]; then # else the listing is cut
		offers=$(jq '[.events[] | select(.type == "queue_offered")] | length' "$WORK/events_$tag.json")
		missed=$(jq '[.events[] | select(.type == "queue_offer_missed")] | length' "$WORK/events_$tag.json")
		# answered calls per agent: min/median/max
		per_agent=$(jq -r '[.events[] | select(.type == "queue_answered") | .data.agent] | group_by(.) | map(length) | sort |
			if length == 0 then "-" else "\(.[0])/\(.[length / 2 | floor])/\(.[-1])" end' "$WORK/events_$tag.json")
		# dispatch: ms from an agent's queue_completed to their next queue_offered (while callers
		# waited, the engine offers at once); median/max over the run
		regap=$(jq -r 'def ms: .time | capture("T(?<h>[0-9]+):(?<m>[0-9]+):(?<s>[0-9.]+)") | ((.h | tonumber) * 3600 + (.m | tonumber) * 60 + (.s | tonumber)) * 1000;
			[.events[] | select(.type == "queue_completed" or .type == "queue_offered") | {a: .data.agent, t: ms, k: .type}] | group_by(.a) |
			[.[] | sort_by(.t) | . as $e | range(0; length - 1) | select($e[.].k == "queue_completed" and $e[. + 1].k == "queue_offered") | $e[. + 1].t - $e[.].t] |
			sort | if length == 0 then "-" else "\(.[length / 2 | floor] | round)/\(.[-1] | round)" end' "$WORK/events_$tag.json")
	fi
	local agents_avail
	agents_avail=$(jq '[.agents[] | select(.state == "available")] | length' "$WORK/agents_after_$tag.json")

	local cpu_s ms_call cpu_pct peak_g peak_r hwm idle_g idle_r
	cpu_s=$(echo "scale=2; ($c1 - $c0) / $HZ" | bc)
	ms_call=$( [ "$answered" -gt 0 ] && echo "scale=2; ($c1 - $c0) * 1000 / $HZ / $answered" | bc || echo -)
	cpu_pct=$(echo "$cpu_s $wall" | awk '{printf "%.0f", $1 * 100 / $2}')
	peak_g=$(awk '{print $1}' "$WORK/samples_$tag.txt" | sort -n | tail -1)
	peak_r=$(awk '{print $2}' "$WORK/samples_$tag.txt" | sort -g | tail -1)
	hwm=$(awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$SWITCHD_PID/status" 2>/dev/null || echo -)
	read -r idle_g idle_r <<<"$idle"
	local sink_pkts=-
	[ -z "$profiler" ] || wait "$profiler" 2>/dev/null || true
	stop_switchd
	kill "$sink" 2>/dev/null || true
	wait "$sink" 2>/dev/null || true
	PIDS=() # all waited for: their ids may be reused, never signal them again
	[ -s "$WORK/sink_$tag.txt" ] && sink_pkts=$(cut -d' ' -f1 "$WORK/sink_$tag.txt")
	local warns errs
	# the empty IVR folder's warning at start-up is expected
	warns=$(grep 'level=WARN' "$WORK/switchd_$tag.log" | grep -vc 'no flow files' || true)
	errs=$(grep -c 'level=ERROR' "$WORK/switchd_$tag.log" || true)

	local pass=yes
	[ "$lost" = 0 ] && [ "$abandoned" = 0 ] && [ "$waiting" = 0 ] && [ "$cok" = "$CALLS" ] && [ "$cfail" = 0 ] &&
		[ "$aok" = "$CALLS" ] && [ "$joined" = "$CALLS" ] && [ "$answered" = "$CALLS" ] || pass=no
	echo "$run,$CALLS,$cok,$cfail,$cretr,$cunexp,$aok,$afail,$maxc,$wall,$rate_s,$joined,$answered,$abandoned,$overflowed,$cancelled,$qlost,$lost,$waiting,$asa,$longest,$answer_ms,$call_len,$offers,$missed,$per_agent,$regap,$cpu_s,$ms_call,$cpu_pct,$peak_g,$peak_r,$hwm,$idle_g,$idle_r,$after,$sink_pkts,$warns,$errs,$quiet,$pass" >>"$CSV"
	log "run $run: callers ok/fail $cok/$cfail (max $maxc up), agents ok/fail $aok/$afail; queues joined $joined answered $answered abandoned $abandoned overflowed $overflowed lost $qlost waiting $waiting; offers $offers missed $missed, answered per agent min/median/max $per_agent, completed->next offer ms median/max $regap; agents available after $agents_avail/$AGENTS"
	log "run $run: lost contacts: $lost; ASA ${asa}s, longest answered wait ${longest}s; ${rate_s} calls/s; switchd ${cpu_s}s CPU = ${ms_call} ms/call (${cpu_pct}%), peak goroutines $peak_g, RSS ${peak_r} MiB (VmHWM $hwm); log WARN $warns ERROR $errs -> $pass"
	if [ "$warns" != 0 ] || [ "$errs" != 0 ]; then
		grep -E 'level=(WARN|ERROR)' "$WORK/switchd_$tag.log" | grep -v 'no flow files' | sed -E 's/^time=[^ ]+ //; s/call_id=[^ ]+ //' | cut -c1-200 | sort | uniq -c | sort -rn | head -10 >&2
	fi
}

for run in $(seq "$RUNS"); do
	one_run "$run"
done

# --- summary ---------------------------------------------------------------------

summarize() {
	local rows n np
	rows=$(tail -n +2 "$CSV")
	n=$(echo "$rows" | grep -c . || true); np=$(echo "$rows" | grep -c ',yes$' || true)
	# columns of runs.csv by name
	ci() { head -1 "$CSV" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1; }
	col() { echo "$rows" | cut -d, -f"$(ci "$1")" | tr '\n' ' ' | median; }
	sum() { echo "$rows" | cut -d, -f"$(ci "$1")" | awk '{s += $1} END {print s + 0}'; }
	allv() { echo "$rows" | cut -d, -f"$(ci "$1")" | paste -sd' ' -; }
	echo "### End to end with sipp: $CALLS calls per run, $CONC simultaneous callers, 3 queues, $AGENTS agents, ${TALK_MS} ms talk"
	echo
	echo "Medians of $n run(s), each on a fresh data dir; lost, abandoned and failed calls are totals over all runs."
	echo
	echo "| measure | median | every run |"
	echo "|---|---:|---|"
	echo "| callers ok / failed (sipp) | $(col caller_ok) / $(col caller_fail) | $(allv caller_ok) |"
	echo "| caller retransmissions / unexpected messages (sipp) | $(col caller_retrans) / $(col caller_unexpected) | $(allv caller_retrans) |"
	echo "| agent calls ok / failed (sipp UAS) | $(col agent_ok) / $(col agent_fail) | $(allv agent_ok) |"
	echo "| simultaneous callers reached (sipp, max) | $(col max_concurrent) | $(allv max_concurrent) |"
	echo "| joined / answered (API, 3 queues) | $(col joined) / $(col answered) | $(allv answered) |"
	echo "| **lost contacts** (joined − answered − abandoned) | **$(sum lost)** in total | $(allv lost) |"
	echo "| abandoned / overflowed / cancelled / queue_lost / left waiting | $(sum abandoned) / $(sum overflowed) / $(sum cancelled) / $(sum queue_lost) / $(sum waiting_after) in total | |"
	echo "| offers / missed offers (queue events) | $(col offers) / $(col offers_missed) | $(allv offers_missed) |"
	echo "| answered calls per agent, min/median/max | $(echo "$rows" | cut -d, -f"$(ci per_agent)" | head -1) (run 1) | $(allv per_agent) |"
	echo "| an agent's call ended → their next offer, ms median / max (events, ms resolution) | $(echo "$rows" | cut -d, -f"$(ci reoffer_ms)" | head -1) (run 1) | $(allv reoffer_ms) |"
	echo "| ASA, 3 queues (answered-weighted) | $(col asa_s) s | $(allv asa_s) |"
	echo "| longest answered wait | $(col longest_answered_s) s | $(allv longest_answered_s) |"
	echo "| caller's INVITE → 200 (the queue answers), p99 bucket | $(col answer_p99_ms | sed 's/^/< /') ms | $(allv answer_p99_ms) |"
	echo "| caller's call length: wait + ring + talk (sipp mean) | $(col call_len_s) s | $(allv call_len_s) |"
	echo "| throughput: answered calls / caller run wall time | $(col calls_per_s)/s over $(col wall_s) s | $(allv calls_per_s) |"
	echo "| switchd CPU per answered call (utime+stime) | $(col cpu_ms_per_call) ms | $(allv cpu_ms_per_call) |"
	echo "| switchd CPU during the run, % of one core | $(col switchd_cpu_pct) % | $(allv switchd_cpu_pct) |"
	echo "| peak goroutines (/metrics every 1 s; idle $(col idle_goroutines), after $(col goroutines_after)) | $(col peak_goroutines) | $(allv peak_goroutines) |"
	echo "| peak RSS MiB (/metrics every 1 s; idle $(col idle_rss_mib)) / VmHWM | $(col peak_rss_mib) / $(col vmhwm_mib) | $(allv peak_rss_mib) |"
	echo "| RTP packets switchd sent to the sink (music on hold) | $(col sink_pkts) | $(allv sink_pkts) |"
	echo "| switchd log WARN / ERROR lines | $(sum warn_lines) / $(sum error_lines) in total | |"
	echo "| runs passed | $np/$n | |"
	echo
	echo "Per queue (medians over runs; \`lost\` is the API's queue_lost):"
	echo
	echo "| queue | members | joined | answered | abandoned | overflowed | lost | ASA s | longest answered wait s |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	local q qrows m
	for q in q1 q2 q3; do
		qrows=$(awk -F, -v q="$q" 'NR > 1 && $2 == q' "$QCSV")
		qc() { echo "$qrows" | cut -d, -f"$1" | tr '\n' ' ' | median; }
		m=$(grep -cw "$q" "$WORK/agents.txt" || true)
		echo "| $q | $m | $(qc 3) | $(qc 4) | $(qc 5) | $(qc 6) | $(qc 8) | $(qc 9) | $(qc 10) |"
	done
	echo
	echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); switchd on CPU $SERVER_CPU, sipp and the sink on CPU $GEN_CPU; CPU busy before each run (switchd core / generator core, %): $(allv quiet_before)."
	echo "Run of $(date -u '+%d %b %Y %H:%M') UTC, wall time $(($(date +%s) - T0)) s, command: \`$( [ "$QUICK" = 1 ] && echo 'QUICK=1 ')$( [ "$PROFILE" = 1 ] && echo 'PROFILE=1 ')CALLS=$CALLS RUNS=$RUNS CONC=$CONC RATE=$RATE TALK_MS=$TALK_MS bench/acd.sh\`."
}
summarize >"$WORK/summary.md"
cat "$WORK/summary.md"
if [ -s "$WORK/switchd.cpu.pprof" ]; then
	(cd "$REPO" && timeout 120 go tool pprof -top -nodecount=30 "$WORK/switchd" "$WORK/switchd.cpu.pprof" 2>/dev/null) >"$WORK/switchd.cpu.top" || true
	(cd "$REPO" && timeout 120 go tool pprof -top -cum -nodecount=40 "$WORK/switchd" "$WORK/switchd.cpu.pprof" 2>/dev/null) >"$WORK/switchd.cpu.cum" || true
	echo
	echo "switchd CPU profile, run 1 ($WORK/switchd.cpu.pprof):"
	sed -n '1,25p' "$WORK/switchd.cpu.top"
fi
if [ -n "$RESULTS" ]; then
	{
		echo "# ACD end to end with sipp (bench/acd.sh)"
		echo
		echo "200 simultaneous callers into 3 queues served by 50 sipp agents with short talk"
		echo "times, zero lost contacts (issue 7). Method in the header of \`bench/acd.sh\`; in short:"
		echo
		echo "- callers: one sipp as the carrier (trunk \`carrier\`, inbound by source 127.0.0.2),"
		echo "  -r $RATE -l $CONC -m $CALLS, DIDs +862155550301..303 → queues q1..q3 in turn; switchd"
		echo "  answers each call in its queue, plays music on hold (a WAV, G.711 to every waiting"
		echo "  caller) and the caller waits for the agent's BYE"
		echo "- agents: a01..a$(printf %02d "$AGENTS") on extensions 3001..$((3000 + AGENTS)), all registered from one sipp UAS"
		echo "  port; it rings 200 ms, answers, talks $TALK_MS ms and hangs up; agent N in q((N%3)+1),"
		echo "  even N also in q(((N+1)%3)+1) (25 members per queue, half shared)"
		echo "- queues: longest-idle, offer_timeout 10s, wrap_up 0, no max_wait, no announcements"
		echo "- lost contacts = joined − answered − abandoned from \`GET /api/v1/queues/stats\`"
		echo "- switchd on CPU $SERVER_CPU, sipp and the RTP sink on CPU $GEN_CPU, nice $NICE"
		echo
		cat "$WORK/summary.md"
		if [ -s "$WORK/switchd.cpu.cum" ]; then
			echo
			echo "Where switchd's CPU goes (PROFILE=1: ${PROFILE_S} s CPU profile in run 1, \`go tool pprof -top -cum\`, first lines):"
			echo
			echo '```'
			sed -n '5,36p' "$WORK/switchd.cpu.cum" | cut -c1-150
			echo '```'
		fi
		echo
		echo "Every run (\`runs.csv\`):"
		echo
		echo '```'
		cat "$CSV"
		echo '```'
	} >"$RESULTS"
	log "wrote $RESULTS"
fi
LOST=$(tail -n +2 "$CSV" | cut -d, -f"$(head -1 "$CSV" | tr ',' '\n' | grep -nx lost | cut -d: -f1)" | awk '{s += $1} END {print s + 0}')
echo
echo "lost contacts: $LOST (runs passed $(grep -c ',yes$' "$CSV" || true)/$RUNS)"
log "done: $WORK"
grep -q ',no$' "$CSV" && exit 1 || exit 0
