#!/usr/bin/env bash
# Media II under load (issue 8): conferences mixed by switchd, and recorded
# calls, driven by sipp and Go RTP generators. All traffic is on 127.0.0.1;
# every sipp run is bounded by -m, -timeout and timeout(1), every generator
# by its window and timeout(1).
#
#   bench/media2.sh                # the full run: parts c, r and m (~8-9 minutes)
#   QUICK=1 bench/media2.sh        # a quick look (~2 minutes): one run each, 8 s windows, 500 calls on both cores only
#   PARTS=c SIZES=50 RUNS_C=3 bench/media2.sh    # one part, chosen steps
#   PARTS=r CONC="500@0 500@0,1" RUNS_R=3 bench/media2.sh  # 500 calls, switchd on one core, then on both
#   SUMMARY_ONLY=1 WORK=DIR bench/media2.sh      # rewrite DIR/summary.md (and RESULTS) from DIR's CSVs
#
# Part (c), conferences: config `conferences: [{name: b, number: "*800"}]`
# (no PIN, default max 50 participants). For each room size in SIZES, RUNS_C
# runs, one room at a time, each on a fresh switchd: a sipp UAC
# (bench/media2/conf_uac.xml: extension 1001, digest auth, PCMU only) dials
# *800 SIZE times at CONF_RATE/s and holds the calls; switchd answers each
# and joins it to the room's mixer. bench/media2/confload is every
# participant's media on one socket: it learns switchd's port of each leg
# from sipp's log (the 200 OK's SDP), sends participant i a continuous tone
# of its own frequency (300 + 60i Hz, -28 dBm0) as 20 ms PCMU packets, and
# over a WINDOW_C-second window after SETTLE s counts per participant what
# switchd sends back: packets per second (the mix is one packet per 20 ms,
# so 50/s), RTP sequence numbers missing, inter-arrival gaps over 40 ms,
# jitter, frames with no audio; and in one second of each participant's mix
# it checks by Goertzel that it hears all the others' tones and not its own.
# switchd's CPU (utime+stime, /proc/PID/stat) over the window gives the cost
# per room and per participant (also per participant per 20 ms frame, to
# compare with the mixer's own `go test -bench` cost, part m); its idle CPU
# is measured before the calls. GET /api/v1/conferences in mid-window must
# list SIZE participants. A run passes when every participant is up and
# listed, each received >= 49.5 packets/s with no sequence gap and no
# inter-arrival gap over 40 ms, none got a silent frame, each hears all the
# others (each tone within 6 dB of its level) and its own tone is at least
# 20 dB down, and switchd logged no WARN/ERROR (e.g. mixer_behind).
#
# Part (r), recorded calls: bench/calls.sh part (b)'s setup (sipp caller
# 1001 -> callee 1002 registered from its own port, bench/calls/uac.xml and
# uas.xml; bench/calls/rtpload streams 20 ms PCMA both ways of every call
# through switchd's relay and measures loss, jitter, switchd's CPU). For
# each step N@CPUS in CONC (N calls, switchd pinned to CPUS; default 100
# calls on CPU 0 as in bench/calls.sh, and 500 calls on both cores, since
# one core cannot carry 500 recorded calls: see bench/results/media2.md),
# RUNS_R pairs of runs on fresh data dirs, with
# `recordings: {mode: always}` (stereo WAV of every answered call under
# <data_dir>/recordings) and without (mode off), in turn, so the recording's
# CPU cost is a ratio of two runs taken minutes apart. Over the WINDOW_R
# window: switchd's CPU per call, RSS, loss; the disk throughput from a
# 1-second sampler: bytes switchd wrote (/proc/PID/io wchar: write(2)
# calls; write_bytes: bytes sent to the block layer) and the growth of the
# recordings dir (du -sb). After the calls ended (sipp's BYEs), the index
# (`switchd recordings list --json`) must hold one complete recording per
# call with dropped_frames and lost_frames 0; the WAV sizes are compared
# with the durations (32,000 bytes per second of stereo). A recorded run
# passes when every call came up, generator loss < LOSS_MAX %, the index
# has every call, all complete, with 0 dropped and 0 lost frames, no sipp
# call failed (caller or callee), and switchd logged no WARN/ERROR. With
# switchd on both cores (GOMAXPROCS=2) the generators still run on GEN_CPU
# only, so they compete with switchd there.
#
# Part (m): `go test -bench BenchmarkMixStep/conference` of media/mixer
# (-count 3), the mixer's cost alone per participant per frame.
#
# Output under WORK: runs_c.csv, runs_r.csv (every run), parts_*.csv (per
# participant), recordings_*.json (the index), disk_*.txt (samples),
# summary.md (medians); the summary is also written to RESULTS (default
# bench/results/media2.md for the full run, none for QUICK; the findings in
# that file were added by hand and a rerun replaces them: RESULTS= keeps it).
# The machine is shared: before each run the script waits up to QUIET_WAIT s
# for both cores to be under QUIET_PCT% busy and records what it saw; switchd
# is pinned to SERVER_CPU (part c, and the mixer benchmark) or to each step's
# CPUs (part r), sipp and the generators to GEN_CPU, all at nice NICE.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
M2=$REPO/bench/media2
CALLS=$REPO/bench/calls
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	: "${RUNS_C:=1}" "${WINDOW_C:=8}" "${CONC:=500@0,1}" "${RUNS_R:=1}" "${WINDOW_R:=8}" "${MIX_COUNT:=1}" "${RESULTS:=}"
fi
PARTS=${PARTS:-"c r m"}
RESULTS=${RESULTS-$REPO/bench/results/media2.md}
WORK=${WORK:-/tmp/media2bench/run.$$}
# part (c)
SIZES=${SIZES:-"3 10 50"}
RUNS_C=${RUNS_C:-2}
WINDOW_C=${WINDOW_C:-20}       # s measured per room
CONF_RATE=${CONF_RATE:-25}     # participants dialling in per second
CONF_LEVEL=${CONF_LEVEL:--28}  # each participant's tone, dBm0
# part (r)
CONC=${CONC:-"100@0 500@0,1"} # N[@CPUS]: N calls, switchd on CPUS (default R_SERVER_CPU)
RUNS_R=${RUNS_R:-2}
WINDOW_R=${WINDOW_R:-20}       # s measured
SETUP_RATE=${SETUP_RATE:-250}  # calls/s while setting up
SETUP_MARGIN=${SETUP_MARGIN:-3} # s the generators wait for slow setups past N/rate
INDEX_WAIT=${INDEX_WAIT:-40}   # s to wait after the BYEs for every recording to be indexed complete
                               # (a callee that never answers switchd's BYE holds the call 32 s)
LOSS_MAX=${LOSS_MAX:-0.1}      # %
# part (m)
MIX_COUNT=${MIX_COUNT:-3}
# both
SETTLE=${SETTLE:-2}            # s after the last call is up before the window
SERVER_CPU=${SERVER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
R_SERVER_CPU=${R_SERVER_CPU:-$SERVER_CPU} # part (r): switchd's CPUs for a step of CONC without @CPUS
NICE=${NICE:--15}
QUIET_PCT=${QUIET_PCT:-30}
QUIET_WAIT=${QUIET_WAIT:-8}
# addresses: away from the other benchmarks (15060/16060, 17060-17090, 18780, 27060-28780,
# 30000-30003, 35060-38080, RTP 36000-37999 and 40000-60000), from the tests' RTP ranges
# (20000-29999, 31000-31999, 42000-) and, for switchd's RTP, from the kernel's ephemeral
# ports (32768-60999)
SIP_PORT=${SIP_PORT:-13060}
HTTP_PORT=${HTTP_PORT:-13780}
UAC_PORT=${UAC_PORT:-13061}    # sipp's media ports (unused): 13070, 13080, 13090
UAS_PORT=${UAS_PORT:-13062}
RTP_MIN=${RTP_MIN:-61000}
RTP_MAX=${RTP_MAX:-64999}
GEN_A=${GEN_A:-13100}          # rtpload's caller-side socket (RTCP +1)
GEN_B=${GEN_B:-13102}          # its callee-side socket
CONF_GEN=${CONF_GEN:-13110}    # confload's socket (RTCP +1)
SWITCHD_BIN=${SWITCHD_BIN:-}
SIPP=${SIPP:-sipp}
HZ=$(getconf CLK_TCK)

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
DATA=$WORK/data
TEMPLATE=$WORK/template
METRICS=http://127.0.0.1:$HTTP_PORT/metrics
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
command -v python3 >/dev/null || die "python3 missing"

SUMMARY_ONLY=${SUMMARY_ONLY:-0}
if [ "$SUMMARY_ONLY" != 1 ]; then
	log "building switchd, mkusers, rtpload, confload into $WORK"
	(
		cd "$REPO"
		[ -n "$SWITCHD_BIN" ] || go build -o "$WORK/switchd" ./cmd/switchd
		go build -o "$WORK/mkusers" ./bench/cmd/mkusers
		go build -o "$WORK/rtpload" ./bench/calls/rtpload
		go build -o "$WORK/confload" ./bench/media2/confload
		case " $PARTS " in *" m "*) go test -c -o "$WORK/mixer.test" ./media/mixer ;; esac
	)
	[ -z "$SWITCHD_BIN" ] || cp "$SWITCHD_BIN" "$WORK/switchd"
	rm -rf "$TEMPLATE"
	mkdir -p "$TEMPLATE"
	"$WORK/mkusers" -db "$TEMPLATE/switchd.db" -first 1001 -n 2 -csv "$WORK/users.csv" >/dev/null
	{ echo SEQUENTIAL; grep '^1001;' "$WORK/users.csv"; } >"$WORK/caller.csv"
	{ echo SEQUENTIAL; grep '^1002;' "$WORK/users.csv"; } >"$WORK/callee.csv"
fi

# --- helpers (conventions of bench/calls.sh) ------------------------------------

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
core_busy() { awk -v c="cpu$1" '$1 == c {print $2+$3+$4+$7+$8+$9}' /proc/stat; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
median() { tr ' ' '\n' | awk NF | sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
stf_col() { awk -F';' -v n="$2" 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == n) c = i} END {print $c}' "$1"; }

# wait_quiet PID: wait (at most QUIET_WAIT s) until every process uses less
# than QUIET_PCT% of SERVER_CPU and of GEN_CPU (the first of a list) over 1 s; prints
# "server% gen% pid_idle%" (the last: PID's own CPU over the whole wait).
wait_quiet() {
	local i s0 g0 s1 g1 sp=0 gp=0 c0 c1 t0 t1
	c0=$(cpu_ticks "$1"); t0=$(date +%s%N)
	for i in $(seq "$QUIET_WAIT"); do
		s0=$(core_busy "${SERVER_CPU%%[,-]*}"); g0=$(core_busy "${GEN_CPU%%[,-]*}"); sleep 1
		s1=$(core_busy "${SERVER_CPU%%[,-]*}"); g1=$(core_busy "${GEN_CPU%%[,-]*}")
		sp=$(((s1 - s0) * 100 / HZ)); gp=$(((g1 - g0) * 100 / HZ))
		[ "$sp" -lt "$QUIET_PCT" ] && [ "$gp" -lt "$QUIET_PCT" ] && break
	done
	c1=$(cpu_ticks "$1"); t1=$(date +%s%N)
	echo "$sp $gp $(awk -v c="$((c1 - c0))" -v t="$((t1 - t0))" -v hz="$HZ" 'BEGIN {printf "%.2f", c * 100 / hz / (t / 1e9)}')"
}

# write_config FILE RECMODE: switchd's config (RECMODE: always, off)
write_config() {
	cat >"$1" <<EOF
data_dir: $DATA
sip:
  listen: ["udp://127.0.0.1:$SIP_PORT"]
  qualify_interval: 0s   # sipp does not answer OPTIONS
  drain_timeout: 2s
media:
  rtp_ports: $RTP_MIN-$RTP_MAX
  bind_address: 127.0.0.1
log: {level: warn}
http: {listen: 127.0.0.1:$HTTP_PORT}
conferences: [{name: b, number: "*800"}]
recordings: {mode: $2}
EOF
}

# start_switchd CONFIG LOG CPUS: a fresh data dir from the template, switchd
# (on CPUS), and the callee registered from UAS_PORT
start_switchd() {
	rm -rf "$DATA"
	cp -r "$TEMPLATE" "$DATA"
	nice -n "$NICE" taskset -c "$3" "$WORK/switchd" serve -c "$1" >"$2" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 100); do
		curl -fs "$METRICS" >/dev/null 2>&1 && break
		sleep 0.1
	done
	curl -fs "$METRICS" >/dev/null || { log "switchd did not start:"; tail "$2" >&2; exit 1; }
	timeout 30 "$SIPP" "127.0.0.1:$SIP_PORT" -sf "$CALLS/register.xml" -inf "$WORK/callee.csv" -i 127.0.0.1 \
		-p "$UAS_PORT" -mp 13090 -m 1 -timeout 10s -nostdin >"$WORK/register.out" 2>&1 ||
		{ log "callee registration failed"; cat "$WORK/register.out" >&2; exit 1; }
	LOG_SKIP=$(wc -l <"$2") # start-up lines (e.g. the IVR flows' and music on hold's warnings) are not counted
}

stop_switchd() {
	[ -n "$SERVER_PID" ] || return 0
	kill "$SERVER_PID" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

# log_counts LOG: "warn error mixer_behind recording_frames_dropped" lines of a switchd log past
# its first LOG_SKIP lines; their messages go to LOG.warnings (count, level, msg)
log_counts() {
	tail -n +$((LOG_SKIP + 1)) "$1" | grep -E 'level=(WARN|ERROR)' | sed -E 's/.*level=([A-Z]+) msg=([^ ]+).*/\1 \2/' |
		sort | uniq -c >"$1.warnings" || true
	tail -n +$((LOG_SKIP + 1)) "$1" | awk '/level=WARN/ {w++} /level=ERROR/ {e++} /mixer_behind/ {m++} /recording_frames_dropped/ {d++}
		END {printf "%d %d %d %d\n", w, e, m, d}'
}

# --- part (c): conferences -------------------------------------------------------

c_run() {
	local n=$1 run=$2
	local tag=c_${n}_$run
	local ramp=$(((n + CONF_RATE - 1) / CONF_RATE))
	local hold_s=$((ramp + SETTLE + WINDOW_C + 3)) # the first BYE comes after the window
	local limit=$((hold_s + ramp + 30))
	write_config "$WORK/conf.yaml" off
	start_switchd "$WORK/conf.yaml" "$WORK/$tag.switchd.log" "$SERVER_CPU"
	local quiet idle
	read -r q1 q2 idle < <(wait_quiet "$SERVER_PID")
	quiet=$q1/$q2
	local rss0 gor0
	rss0=$(rss_kib "$SERVER_PID")
	gor0=$(curl -fs "$METRICS" | awk '/^go_goroutines / {print $2}')
	rm -f "$WORK/$tag.alog"
	timeout -k 5 $((limit + 5)) nice -n "$NICE" taskset -c "$GEN_CPU" "$WORK/confload" -addr "127.0.0.1:$CONF_GEN" \
		-alog "$WORK/$tag.alog" -n "$n" -learn-timeout "$((ramp + SETUP_MARGIN))s" -settle "${SETTLE}s" -window "${WINDOW_C}s" \
		-level "$CONF_LEVEL" -pid "$SERVER_PID" -metrics "$METRICS" -out "$WORK/$tag.json" -parts "$WORK/parts_$tag.csv" \
		2>"$WORK/$tag.gen" &
	local gen=$!
	PIDS+=("$gen")
	# the room as the API lists it, mid-window
	local token
	token=$(cat "$DATA/admin.token")
	(
		sleep $((ramp + SETTLE + WINDOW_C / 2 + 1))
		curl -fs -H "Authorization: Bearer $token" "$API/api/v1/conferences" >"$WORK/$tag.api.json" || true
	) &
	local apip=$!
	PIDS+=("$apip")
	timeout -k 5 "$limit" nice -n "$NICE" taskset -c "$GEN_CPU" "$SIPP" "127.0.0.1:$SIP_PORT" \
		-sf "$M2/conf_uac.xml" -inf "$WORK/caller.csv" -s '*800' -i 127.0.0.1 -p "$UAC_PORT" -mp 13070 \
		-key rtp_ip 127.0.0.1 -key rtp_port "$CONF_GEN" \
		-r "$CONF_RATE" -m "$n" -l "$n" -d $((hold_s * 1000)) -timeout "$((limit - 5))s" -recv_timeout 10000 \
		-nostdin -trace_stat -stf "$WORK/uac_$tag.csv" -fd 3600 -trace_err -error_file "$WORK/uac_$tag.err" \
		-trace_logs -log_file "$WORK/$tag.alog" >"$WORK/uac_$tag.out" 2>&1 || true
	wait "$gen" || true
	wait "$apip" || true
	PIDS=() # all ended (never kill a recycled pid at exit)
	local ok fail api
	ok=$(stf_col "$WORK/uac_$tag.csv" 'SuccessfulCall(C)' 2>/dev/null || echo 0)
	fail=$(stf_col "$WORK/uac_$tag.csv" 'FailedCall(C)' 2>/dev/null || echo -)
	api=$(python3 -c 'import json, sys
try:
    d = json.load(open(sys.argv[1]))
    print(sum(len(c["participants"]) for c in d["conferences"] if c["name"] == "b"))
except Exception:
    print(-1)' "$WORK/$tag.api.json")
	stop_switchd
	local lc
	lc=$(log_counts "$WORK/$tag.switchd.log")
	if [ ! -s "$WORK/$tag.json" ]; then
		log "(c) $n participants run $run: no result"; cat "$WORK/$tag.gen" >&2
		return
	fi
	python3 - "$WORK/$tag.json" "$n" "$run" "$api" "$ok" "$fail" "$quiet" "$idle" "$rss0" "$gor0" $lc >>"$WORK/runs_c.csv" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
n, run, api, ok, fail, quiet, idle, rss0, gor0, warn, err, behind, _ = sys.argv[2:]
n = int(n)
passed = (r["learned"] == n and int(api) == n and r["pps_min"] >= 49.5 and r["missing_seq"] == 0 and r["gaps_over_40ms"] == 0
          and r["silent_frames"] == 0 and r["heard_min"] == n - 1 and r["own_max_db"] < -20 and int(warn) + int(err) == 0)
row = [n, run, r["learned"], api, ok, fail, "%.2f" % r["pps_min"], "%.2f" % r["pps_median"], "%.2f" % r["pps_max"],
       r["missing_seq"], r["parts_missing"], r["reordered"], r["gaps_over_40ms"], r["parts_gaps"], "%.1f" % r["max_gap_ms"],
       "%.2f" % r["interarrival_p50_ms"], "%.2f" % r["interarrival_p99_ms"], "%.2f" % r["jitter_mean_ms"], "%.2f" % r["jitter_max_ms"],
       r["silent_frames"], r["zero_frames"], r["parts_silent"], r["heard_min"], r["parts_hear_all"], "%.1f" % r["own_max_db"], r["capture_short"],
       "%.2f" % r["target_cpu_pct"], "%.3f" % r["cpu_pct_per_part"], "%.2f" % r["us_per_part_frame"], idle,
       "%.1f" % r["gen_cpu_pct"], rss0, r["rss_kib"], "%.1f" % ((r["rss_kib"] - int(rss0)) / n), gor0, r["goroutines"],
       r["sock_drops"], r["non_audio"], r["foreign"], quiet, warn, err, behind, "yes" if passed else "no"]
print(",".join(str(x) for x in row))
EOF
	log "(c) $n participants run $run: $(tail -1 "$WORK/$tag.gen") API $api, sipp ok/fail $ok/$fail, log warn/error $lc -> $(tail -1 "$WORK/runs_c.csv" | awk -F, '{print $NF}')"
}

part_c() {
	echo "participants,run,learned,api_participants,sipp_ok,sipp_fail,pps_min,pps_median,pps_max,missing_seq,parts_missing,reordered,gaps_over_40ms,parts_gaps,max_gap_ms,interarrival_p50_ms,interarrival_p99_ms,jitter_mean_ms,jitter_max_ms,silent_frames,zero_frames,parts_silent,heard_min,parts_hear_all,own_max_db,capture_short,cpu_pct,cpu_pct_per_part,us_per_part_frame,idle_cpu_pct,gen_cpu_pct,rss0_kib,rss_kib,rss_kib_per_part,goroutines_idle,goroutines,sock_drops,non_audio,foreign,quiet_before,log_warn,log_error,mixer_behind,pass" >"$WORK/runs_c.csv"
	local n run
	for n in $SIZES; do
		[ "$n" -le 50 ] || die "SIZES: a room holds at most 50 (default max_participants)"
		for run in $(seq "$RUNS_C"); do c_run "$n" "$run"; done
	done
}

# --- part (r): recorded calls ----------------------------------------------------

# disk_sampler PID DIR OUT SECONDS: every second "epoch_s wchar write_bytes du_bytes"
disk_sampler() {
	local i
	for i in $(seq "$4"); do
		kill -0 "$1" 2>/dev/null || break
		echo "$(date +%s.%N) $(awk '/^wchar:/ {w = $2} /^write_bytes:/ {b = $2} END {print w + 0, b + 0}' "/proc/$1/io" 2>/dev/null || echo 0 0) $(du -sb "$2" 2>/dev/null | cut -f1 || echo 0)"
		sleep 1
	done >"$3"
}

r_run() {
	local n=$1 run=$2 mode=$3 cpus=$4
	local tag=r_${mode}_${n}_c${cpus//,/+}_$run
	local ramp=$(((n + SETUP_RATE - 1) / SETUP_RATE))
	local hold_s=$((ramp + SETTLE + WINDOW_R + 4))
	local limit=$((hold_s + ramp + 30))
	local recmode=off
	[ "$mode" = rec ] && recmode=always
	write_config "$WORK/$mode.yaml" "$recmode"
	start_switchd "$WORK/$mode.yaml" "$WORK/$tag.switchd.log" "$cpus"
	local q1 q2 idle quiet rss0
	read -r q1 q2 idle < <(wait_quiet "$SERVER_PID")
	quiet=$q1/$q2
	rss0=$(rss_kib "$SERVER_PID")
	disk_sampler "$SERVER_PID" "$DATA/recordings" "$WORK/disk_$tag.txt" $((limit + 10)) &
	local samp=$!
	PIDS+=("$samp")
	rm -f "$WORK/$tag.alog" "$WORK/$tag.blog" "$WORK/uas_$tag.csv" "$WORK/uac_$tag.csv"
	timeout -k 5 "$limit" nice -n "$NICE" taskset -c "$GEN_CPU" "$SIPP" -sf "$CALLS/uas.xml" \
		-i 127.0.0.1 -p "$UAS_PORT" -mp 13080 -key rtp_ip 127.0.0.1 -key rtp_port "$GEN_B" \
		-m "$n" -timeout "$((limit - 5))s" -buff_size 4194304 -nostdin \
		-trace_stat -stf "$WORK/uas_$tag.csv" -fd 3600 -trace_err -error_file "$WORK/uas_$tag.err" \
		-trace_logs -log_file "$WORK/$tag.blog" >"$WORK/uas_$tag.out" 2>&1 &
	local uasp=$!
	PIDS+=("$uasp")
	sleep 0.3
	timeout -k 5 "$limit" nice -n "$NICE" taskset -c "$GEN_CPU" "$WORK/rtpload" -a "127.0.0.1:$GEN_A" -b "127.0.0.1:$GEN_B" \
		-settle "${SETTLE}s" -window "${WINDOW_R}s" -pid "$SERVER_PID" -drop-lo "$RTP_MIN" -drop-hi "$RTP_MAX" -mode "$mode" \
		-out "$WORK/$tag.json" -calls "$n" -learn-timeout "$((ramp + SETUP_MARGIN))s" \
		-alog "$WORK/$tag.alog" -blog "$WORK/$tag.blog" -metrics "$METRICS" 2>"$WORK/$tag.gen" &
	local gen=$!
	PIDS+=("$gen")
	timeout -k 5 "$limit" nice -n "$NICE" taskset -c "$GEN_CPU" "$SIPP" "127.0.0.1:$SIP_PORT" \
		-sf "$CALLS/uac.xml" -inf "$WORK/caller.csv" -s 1002 -i 127.0.0.1 -p "$UAC_PORT" -mp 13070 \
		-key rtp_ip 127.0.0.1 -key rtp_port "$GEN_A" \
		-r "$SETUP_RATE" -rp 1000 -m "$n" -l 20000 -d $((hold_s * 1000)) -timeout "$((limit - 5))s" -recv_timeout 10000 \
		-buff_size 4194304 -nostdin -trace_stat -stf "$WORK/uac_$tag.csv" -fd 3600 \
		-trace_err -error_file "$WORK/uac_$tag.err" -trace_logs -log_file "$WORK/$tag.alog" >"$WORK/uac_$tag.out" 2>&1 || true
	wait "$gen" || true
	wait "$uasp" 2>/dev/null || true
	# the calls have ended (BYEs): every recording indexed and complete?
	local i idx=$WORK/recordings_$tag.json t_end
	t_end=$(($(date +%s) + INDEX_WAIT))
	while :; do
		timeout 30 "$WORK/switchd" recordings list --json -n 100000 -c "$WORK/$mode.yaml" >"$idx" 2>"$idx.err" || true
		python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if len(d) >= int(sys.argv[2]) and all(r["state"] != "recording" for r in d) else 1)' "$idx" "$n" 2>/dev/null && break
		[ "$mode" = rec ] || break
		[ "$(date +%s)" -lt "$t_end" ] || { log "(r) recordings not all indexed complete after ${INDEX_WAIT}s"; break; }
		sleep 1
	done
	local ok fail ufail
	ok=$(stf_col "$WORK/uac_$tag.csv" 'SuccessfulCall(C)' 2>/dev/null || echo 0)
	fail=$(stf_col "$WORK/uac_$tag.csv" 'FailedCall(C)' 2>/dev/null || echo -)
	ufail=$(stf_col "$WORK/uas_$tag.csv" 'FailedCall(C)' 2>/dev/null || echo -)
	local files=0 bytes=0
	if [ -d "$DATA/recordings" ]; then
		files=$(find "$DATA/recordings" -name '*.wav' | wc -l)
		bytes=$(du -sb "$DATA/recordings" | cut -f1)
	fi
	stop_switchd
	wait "$samp" 2>/dev/null || true
	PIDS=() # all ended (never kill a recycled pid at exit)
	local lc
	lc=$(log_counts "$WORK/$tag.switchd.log")
	rm -rf "$DATA/recordings" # large; the index and the counts are kept
	if [ ! -s "$WORK/$tag.json" ]; then
		log "(r) $mode $n run $run: no result"; cat "$WORK/$tag.gen" >&2
		return
	fi
	python3 - "$WORK/$tag.json" "$n" "$run" "$mode" "$ok" "$fail" "$quiet" "$idle" "$rss0" "$idx" "$WORK/disk_$tag.txt" \
		"$WINDOW_R" "$files" "$bytes" "$LOSS_MAX" "${cpus//,/+}" "$ufail" $lc >>"$WORK/runs_r.csv" <<'EOF'
import json, os, statistics, sys
(jf, n, run, mode, ok, fail, quiet, idle, rss0, idxf, diskf, window, files, nbytes, lmax, cpus, ufail, warn, err, _, dropped_log) = sys.argv[1:]
r = json.load(open(jf))
n = int(n)
# the index
try:
    idx = json.load(open(idxf))
except Exception:
    idx = []
recs = len(idx)
complete = sum(1 for x in idx if x["state"] == "complete")
dropped = sum(x["dropped_frames"] for x in idx)
lost = sum(x["lost_frames"] for x in idx)
rec_dropped = sum(1 for x in idx if x["dropped_frames"] > 0)
rec_lost = sum(1 for x in idx if x["lost_frames"] > 0)
lost_max = max([x["lost_frames"] for x in idx] or [0])
durs = [x["duration_ms"] / 1000 for x in idx]
bps = [x["bytes"] / (x["duration_ms"] / 1000) for x in idx if x["duration_ms"] > 0]
dur_med = statistics.median(durs) if durs else 0
bps_med = statistics.median(bps) if bps else 0
# disk: the sampler's rates over the generator's window (it ends ~0.5 s before the JSON is written)
we = os.path.getmtime(jf) - 0.5
ws = we - float(window)
samples = []
for line in open(diskf):
    f = line.split()
    if len(f) == 4:
        samples.append([float(v) for v in f])
def at(t, col):
    # linear interpolation of column col at time t
    prev = None
    for s in samples:
        if s[0] >= t:
            if prev is None or s[0] == prev[0]:
                return s[col]
            return prev[col] + (s[col] - prev[col]) * (t - prev[0]) / (s[0] - prev[0])
        prev = s
    return samples[-1][col] if samples else 0
rate = lambda col: (at(we, col) - at(ws, col)) / (we - ws) / 1e6 if samples else 0
wchar, wbytes, du = rate(1), rate(2), rate(3)
up = r["learned_a"] >= n and r["learned_b"] >= n
passed = up and r["loss_pct"] < float(lmax) and int(warn) + int(err) == 0 and ufail == "0" and fail == "0"
if mode == "rec":
    passed = passed and recs == n and complete == n and dropped == 0 and lost == 0
row = [mode, n, cpus, run, r["learned_a"], r["learned_b"], ok, fail, ufail, round(r["pps_in"]), round(r["pps_out"]), "%.4f" % r["loss_pct"],
       "%.3f" % r["jitter_mean_ms"], "%.2f" % r["delay_p99_ms"], "%.1f" % r["target_cpu_pct"], "%.3f" % (r["target_cpu_pct"] / n),
       "%.0f" % r["ns_per_pkt"], idle, "%.0f" % r["gen_cpu_pct"], rss0, r["rss_kib"], "%.1f" % ((r["rss_kib"] - int(rss0)) / n),
       r["goroutines"], r["target_sock_drops"], "%.2f" % wchar, "%.2f" % wbytes, "%.2f" % du, recs, complete, dropped, lost,
       rec_dropped, rec_lost, lost_max, "%.1f" % dur_med, "%.0f" % bps_med, files, nbytes, quiet, warn, err, dropped_log,
       "yes" if passed else "no"]
print(",".join(str(x) for x in row))
EOF
	log "(r) $mode $n run $run: $(tail -1 "$WORK/$tag.gen" | cut -c1-400) sipp ok/fail $ok/$fail -> $(tail -1 "$WORK/runs_r.csv" | cut -d, -f23-)"
}

part_r() {
	echo "mode,calls,cpus,run,learned_a,learned_b,sipp_ok,sipp_fail,uas_fail,pps_in,pps_out,loss_pct,jitter_mean_ms,delay_p99_ms,cpu_pct,cpu_pct_per_call,ns_per_pkt,idle_cpu_pct,gen_cpu_pct,rss0_kib,rss_kib,rss_kib_per_call,goroutines,sock_drops,wchar_mb_s,write_bytes_mb_s,du_mb_s,recordings,complete,dropped_frames,lost_frames,recordings_dropped,recordings_lost,lost_frames_max,duration_s_median,wav_bytes_per_s_median,wav_files,wav_bytes,quiet_before,log_warn,log_error,log_frames_dropped,pass" >"$WORK/runs_r.csv"
	local step n cpus run
	for step in $CONC; do
		n=${step%@*}; cpus=$R_SERVER_CPU
		[ "$step" = "$n" ] || cpus=${step#*@}
		for run in $(seq "$RUNS_R"); do
			r_run "$n" "$run" rec "$cpus"
			r_run "$n" "$run" norec "$cpus"
		done
	done
}

# --- part (m): the mixer alone -------------------------------------------------------

part_m() {
	log "(m) go test -bench BenchmarkMixStep/conference ./media/mixer/ (the test binary, on CPU $SERVER_CPU)"
	(cd "$REPO/media/mixer" && timeout 300 nice -n "$NICE" taskset -c "$SERVER_CPU" "$WORK/mixer.test" -test.run XXX \
		-test.bench 'BenchmarkMixStep/conference' -test.benchtime "${BENCHTIME:-1s}" -test.count "$MIX_COUNT") >"$WORK/mixer_bench.txt" 2>&1 || true
	# "n ns/participant" per run
	awk '/^BenchmarkMixStep\/conference\/n=/ {split($1, a, "="); sub(/-.*/, "", a[2]); for (i = 1; i <= NF; i++) if ($(i + 1) == "ns/participant") print a[2], $i}' \
		"$WORK/mixer_bench.txt" >"$WORK/mixer_bench.sum"
}

# --- summary ----------------------------------------------------------------------

summarize() {
	if [ -s "$WORK/runs_c.csv" ] && [ "$(wc -l <"$WORK/runs_c.csv")" -gt 1 ]; then
		local C=$WORK/runs_c.csv
		ci() { head -1 "$C" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1; }
		echo "### Conferences: one room of N participants, 20 ms PCMU each way (medians of $RUNS_C runs; ${WINDOW_C} s window after ${SETTLE} s settle; switchd on CPU $SERVER_CPU)"
		echo
		echo "| participants | up / listed by API | mix pkt/s per participant, min / median / max | missing seq / gaps > 40 ms (total) | longest gap ms | inter-arrival p99 ms | jitter ms mean / worst | silent frames | hears others (worst) / own tone dB | switchd CPU % of a core (idle) | CPU % per participant | µs per participant-frame | mixer alone µs per participant-frame | RSS KiB per participant | WARN/ERROR | runs passed |"
		echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		local n
		for n in $SIZES; do
			rows=$(awk -F, -v n="$n" 'NR > 1 && $1 == n' "$C")
			[ -z "$rows" ] && continue
			col() { echo "$rows" | cut -d, -f"$(ci "$1")" | tr '\n' ' ' | median; }
			cmax() { echo "$rows" | cut -d, -f"$(ci "$1")" | sort -g | tail -1; }
			cmin() { echo "$rows" | cut -d, -f"$(ci "$1")" | sort -g | head -1; }
			csum() { echo "$rows" | cut -d, -f"$(ci "$1")" | awk '{s += $1} END {print s + 0}'; }
			nr=$(echo "$rows" | wc -l); np=$(echo "$rows" | grep -c ',yes$' || true)
			mix=-
			if [ -s "$WORK/mixer_bench.sum" ]; then
				mix=$(awk -v n="$n" '$1 == n {print $2 / 1000}' "$WORK/mixer_bench.sum" | tr '\n' ' ' | median)
			fi
			echo "| $n | $(cmin learned) / $(cmin api_participants) | $(cmin pps_min) / $(col pps_median) / $(cmax pps_max) | $(csum missing_seq) / $(csum gaps_over_40ms) | $(cmax max_gap_ms) | $(col interarrival_p99_ms) | $(col jitter_mean_ms) / $(cmax jitter_max_ms) | $(csum silent_frames) | $(cmin heard_min)/$((n - 1)) / $(cmax own_max_db) | $(col cpu_pct) ($(col idle_cpu_pct)) | $(col cpu_pct_per_part) | $(col us_per_part_frame) | $mix | $(col rss_kib_per_part) | $(csum log_warn)/$(csum log_error) | $np/$nr |"
		done
		echo
	fi
	if [ -s "$WORK/runs_r.csv" ] && [ "$(wc -l <"$WORK/runs_r.csv")" -gt 1 ]; then
		local R=$WORK/runs_r.csv
		ri() { head -1 "$R" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1; }
		echo "### Recorded calls: N concurrent calls, 20 ms PCMA both ways, recordings.mode always vs off (medians of $RUNS_R runs each; ${WINDOW_R} s window after ${SETTLE} s settle)"
		echo
		echo "| calls | switchd on CPUs | recording | pkt/s in / out | loss % (worst) | jitter ms mean | switchd CPU % of a core | CPU % per call | ns per relayed pkt | CPU with / without recording | RSS MiB (KiB per call) | disk: write(2) MB/s / block write_bytes MB/s / dir growth MB/s | recordings indexed / complete | dropped / lost frames (total) | recordings with lost frames (all runs) | WAV bytes per s of call | WARN/ERROR | runs passed |"
		echo "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		local step n c mode
		for step in $CONC; do
			n=${step%@*}; c=$R_SERVER_CPU
			[ "$step" = "$n" ] || c=${step#*@}
			c=${c//,/+}
			local cpu_off
			cpu_off=$(awk -F, -v n="$n" -v c="$c" 'NR > 1 && $1 == "norec" && $2 == n && $3 == c' "$R" | cut -d, -f"$(ri cpu_pct)" | tr '\n' ' ' | median)
			for mode in rec norec; do
				rows=$(awk -F, -v n="$n" -v c="$c" -v m="$mode" 'NR > 1 && $1 == m && $2 == n && $3 == c' "$R")
				[ -z "$rows" ] && continue
				col() { echo "$rows" | cut -d, -f"$(ri "$1")" | tr '\n' ' ' | median; }
				cmax() { echo "$rows" | cut -d, -f"$(ri "$1")" | sort -g | tail -1; }
				csum() { echo "$rows" | cut -d, -f"$(ri "$1")" | awk '{s += $1} END {print s + 0}'; }
				nr=$(echo "$rows" | wc -l); np=$(echo "$rows" | grep -c ',yes$' || true)
				local ratio=- cpu rss
				cpu=$(col cpu_pct)
				[ "$mode" = rec ] && [ "$cpu_off" != - ] && ratio=$(echo "scale=2; $cpu / $cpu_off" | bc)x
				rss=$(echo "scale=1; $(col rss_kib) / 1024" | bc)
				if [ "$mode" = rec ]; then
					echo "| $n | ${c//+/,} | always | $(col pps_in) / $(col pps_out) | $(cmax loss_pct) | $(col jitter_mean_ms) | $cpu | $(col cpu_pct_per_call) | $(col ns_per_pkt) | $ratio | $rss ($(col rss_kib_per_call)) | $(col wchar_mb_s) / $(col write_bytes_mb_s) / $(col du_mb_s) | $(col recordings) / $(col complete) | $(csum dropped_frames) / $(csum lost_frames) | $(csum recordings_lost) of $(csum recordings) | $(col wav_bytes_per_s_median) | $(csum log_warn)/$(csum log_error) | $np/$nr |"
				else
					echo "| $n | ${c//+/,} | off | $(col pps_in) / $(col pps_out) | $(cmax loss_pct) | $(col jitter_mean_ms) | $cpu | $(col cpu_pct_per_call) | $(col ns_per_pkt) | 1 | $rss ($(col rss_kib_per_call)) | $(col wchar_mb_s) / $(col write_bytes_mb_s) / - | - | - | - | - | $(csum log_warn)/$(csum log_error) | $np/$nr |"
				fi
			done
		done
		echo
	fi
	if [ -s "$WORK/mixer_bench.sum" ]; then
		echo "Mixer alone (\`go test -bench BenchmarkMixStep/conference -count $MIX_COUNT ./media/mixer/\`, one Write + Step + Next per participant, ns per participant per frame, median): $(for n in 3 10 50; do echo -n "n=$n $(awk -v n="$n" '$1 == n {print $2}' "$WORK/mixer_bench.sum" | tr '\n' ' ' | median) ns; "; done)"
		echo
	fi
	echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); switchd on CPU $SERVER_CPU (conferences; recorded calls: see the table), sipp and the generators on CPU $GEN_CPU, nice $NICE. CPU busy before each run (switchd core / generator core, %): conferences $(awk -F, 'NR > 1 {printf "%s ", $(NF - 4)}' "$WORK/runs_c.csv" 2>/dev/null); recorded calls $(awk -F, 'NR > 1 {printf "%s ", $(NF - 4)}' "$WORK/runs_r.csv" 2>/dev/null)."
	local wall="wall time $(($(date +%s) - T0)) s"
	[ "$SUMMARY_ONLY" != 1 ] || wall="summary rewritten from $WORK"
	echo "Run of $(date -u -r "$WORK/runs_c.csv" '+%d %b %Y %H:%M' 2>/dev/null || date -u '+%d %b %Y %H:%M') UTC, $wall, command: \`$( [ "$QUICK" = 1 ] && echo 'QUICK=1 ')PARTS=\"$PARTS\" SIZES=\"$SIZES\" RUNS_C=$RUNS_C WINDOW_C=$WINDOW_C CONC=\"$CONC\" RUNS_R=$RUNS_R WINDOW_R=$WINDOW_R bench/media2.sh\`."
}

# --- the run -----------------------------------------------------------------------

log "work directory $WORK"
log "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
T0=$(date +%s)
if [ "$SUMMARY_ONLY" != 1 ]; then
	for p in $PARTS; do
		"part_$p"
	done
fi
summarize >"$WORK/summary.md"
cat "$WORK/summary.md"
if [ -n "$RESULTS" ]; then
	{
		echo "# Media II under load: conferences and recorded calls (bench/media2.sh)"
		echo
		echo "Issue 8. Method in the header of \`bench/media2.sh\`; in short:"
		echo
		echo "- conferences: one room (\`conferences: [{name: b, number: \"*800\"}]\`, no PIN); sipp"
		echo "  (\`bench/media2/conf_uac.xml\`, extension 1001 with digest auth, PCMU only) dials \`*800\`"
		echo "  N times at ${CONF_RATE}/s; \`bench/media2/confload\` sends each participant's tone (its own"
		echo "  frequency, ${CONF_LEVEL} dBm0) as 20 ms PCMU and checks what switchd sends back to each:"
		echo "  packets/s, sequence gaps, arrival gaps, silent frames, and (Goertzel, ten 100 ms blocks) that each"
		echo "  hears all the others and not itself; switchd's CPU over the window (/proc/PID/stat)"
		echo "- recorded calls: bench/calls.sh part (b)'s calls (sipp 1001 → 1002, \`bench/calls/rtpload\`"
		echo "  streaming 20 ms PCMA both ways) with \`recordings: {mode: always}\` and, in turn, without;"
		echo "  disk throughput from /proc/PID/io and the recordings dir's growth; dropped/lost frames from"
		echo "  \`switchd recordings list --json\` after the calls ended"
		echo "- switchd on CPU $SERVER_CPU for the conferences (GOMAXPROCS=1), for the recorded calls as each step"
		echo "  says (CONC=\"$CONC\": N@CPUS); sipp and the generators on CPU $GEN_CPU; nice $NICE"
		echo
		cat "$WORK/summary.md"
		for f in runs_c.csv runs_r.csv; do
			[ -s "$WORK/$f" ] || continue
			echo
			echo "Every run (\`$f\`):"
			echo
			echo '```'
			cat "$WORK/$f"
			echo '```'
		done
	} >"$RESULTS"
	log "wrote $RESULTS"
fi
log "done: $WORK"
