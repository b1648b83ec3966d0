#!/usr/bin/env bash
# Call benchmarks of switchd's B2BUA with anchored media, driven by sipp and
# a Go RTP load generator. All traffic is on 127.0.0.1; every sipp run is
# bounded by -m, -timeout and timeout(1).
#
#   bench/calls.sh                 # the full run, parts a and b (~13-15 minutes)
#   QUICK=1 bench/calls.sh         # a quick look (~3 minutes)
#   PARTS=b CONC="500 1000" RUNS_B=1 bench/calls.sh   # one part, chosen steps
#   PARTS=m bench/calls.sh         # media's Relay vs BareUDPLoop microbenchmarks (~30 s)
#   SUMMARY_ONLY=1 WORK=DIR ... bench/calls.sh        # rewrite DIR/summary.md
#
# Part (a), call setup rate: a sipp caller (extension 1001, digest auth on
# the INVITE: INVITE -> 407 -> INVITE with credentials -> 100/180 -> 200 ->
# ACK -> HOLD_MS pause -> BYE) calls 1002, a sipp callee registered from
# its own port (INVITE -> 100 -> 180 -> 200 at once -> ACK -> BYE). switchd
# anchors the media of every call (two RTP/RTCP port pairs, a relay); no RTP
# flows in this part. For each rate in RATES, RUNS_A runs of DURATION_A
# seconds of load. Per run: completed and failed calls, sipp
# retransmissions, achieved rate, the caller's mean INVITE-to-200 time,
# switchd's CPU time per completed call (utime+stime, /proc/PID/stat), the
# CPU other processes used meanwhile, and goroutines / RSS from /metrics in
# the middle of the run; after the last rate, goroutines and RSS again once
# the calls have ended and once sipgo's finished transactions (kept ~32 s)
# are gone. A run is clean when no call failed and the achieved rate is at
# least 90% of the attempted one. A late 180 (after the 200) is ignored by
# the caller scenario (sipp transactions), not counted as a failure.
#
# Part (b), concurrent calls with G.711 RTP both ways: for each count in
# CONC, a fresh switchd; sipp sets up the calls at SETUP_RATE/s and holds
# them; bench/calls/rtpload (pinned to GEN_CPU, switchd to SERVER_CPU)
# streams 20 ms PCMA packets from the caller and from the callee of every
# call through switchd, and over a WINDOW-second window after SETTLE
# seconds measures loss, the jitter switchd adds (RFC 3550 jitter of the
# send-to-kernel-receive transit time), one-way delay, switchd's CPU per
# relayed packet, RSS and goroutines. With TSHARK=1 the last run of each
# step also captures the RTP on lo (dumpcap, capture filter on switchd's
# RTP port range and the generator's ports) and counts packets into and out
# of switchd with tshark. With BARE=1 each step is repeated against
# bench/calls/barerelay, a bare Go UDP receive+send loop with the relay's
# shape (two sockets and two goroutines per call), for the CPU-per-packet
# floor on the same machine in the same run. A step passes when loss is
# below 0.1% (generator and tshark), the mean added jitter below 5 ms and
# every call came up. With PROFILE=1 one more run takes a CPU profile of
# switchd, then a heap profile and a goroutine dump, at PROFILE_CONC
# (default: the first failing step, else the largest); part (a) profiles
# PROFILE_RATE_A calls/s the same way.
#
# Output under WORK: runs_a.csv, runs_b.csv (every run), summary.md
# (medians per step), switchd.cpu.pprof/.top, raw sipp/rtpload/tshark files.
# The machine is shared: before each run the script waits up to QUIET_WAIT s
# for the other processes to use less than QUIET_PCT% of each core, runs
# everything at nice NICE, and records the other load it saw.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
CALLS=$REPO/bench/calls
WORK=${WORK:-/tmp/callbench/run.$$}
PARTS=${PARTS:-"a b"}
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	: "${RATES:=200 500}" "${RUNS_A:=1}" "${DURATION_A:=5}" "${AFTER_WAIT:=0}"
	: "${CONC:=250 750}" "${RUNS_B:=1}" "${WINDOW:=5}" "${SETTLE:=2}" "${BARE:=1}" "${TSHARK:=1}" "${PROFILE:=0}"
fi
# part (a)
RATES=${RATES:-"100 200 300 500 700"}
RUNS_A=${RUNS_A:-3}
DURATION_A=${DURATION_A:-10}   # seconds of load per run
HOLD_MS=${HOLD_MS:-1000}       # answered call length
AFTER_WAIT=${AFTER_WAIT:-35}   # s after the last run: goroutines once sipgo's transactions are gone
# part (b)
CONC=${CONC:-"250 500 750 1000"}
RUNS_B=${RUNS_B:-2}
SETUP_RATE=${SETUP_RATE:-250}  # calls/s while setting up the concurrent calls
SETTLE=${SETTLE:-2}            # s after the last call is up before the window
SETUP_MARGIN=${SETUP_MARGIN:-4} # s the generator waits for slow call setups past N/SETUP_RATE
                               # (calls are held long enough for the window to end before any BYE)
WINDOW=${WINDOW:-10}           # s measured
TSHARK=${TSHARK:-1}
BARE=${BARE:-1}
PROFILE=${PROFILE:-1}
PROFILE_CONC=${PROFILE_CONC:-}
PROFILE_RATE_A=${PROFILE_RATE_A:-500}
LOSS_MAX=${LOSS_MAX:-0.1}      # % (target < 0.1%)
JITTER_MAX=${JITTER_MAX:-5}    # ms (target < 5 ms added jitter)
# machine
SERVER_CPU=${SERVER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
NICE=${NICE:--15}
QUIET_PCT=${QUIET_PCT:-30}
QUIET_WAIT=${QUIET_WAIT:-8}
# addresses (other engineers use 15060/16060)
SIP_PORT=${SIP_PORT:-17060}
HTTP_PORT=${HTTP_PORT:-18780}
UAC_PORT=${UAC_PORT:-17061}
UAS_PORT=${UAS_PORT:-17062}
RTP_MIN=${RTP_MIN:-40000}
RTP_MAX=${RTP_MAX:-60000}
GEN_A=${GEN_A:-30000}          # the generator's caller-side RTP socket (RTCP +1)
GEN_B=${GEN_B:-30002}          # its callee-side socket
SWITCHD_BIN=${SWITCHD_BIN:-}
SIPP=${SIPP:-sipp}
HZ=$(getconf CLK_TCK)

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
DATA=$WORK/data
METRICS=http://127.0.0.1:$HTTP_PORT/metrics
log() { echo "[$(date +%T)] $*" >&2; }

PIDS=()
SERVER_PID=
cleanup() {
	local p
	for p in "${PIDS[@]}" $SERVER_PID; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}" $SERVER_PID; do
		wait "$p" 2>/dev/null || true
	done
	PIDS=()
	SERVER_PID=
}
trap cleanup EXIT

command -v "$SIPP" >/dev/null || { log "sipp missing: apt-get install sip-tester"; exit 1; }
if [ "$TSHARK" = 1 ] && ! command -v tshark >/dev/null; then
	log "installing tshark"
	DEBIAN_FRONTEND=noninteractive apt-get install -y tshark >/dev/null
fi

SUMMARY_ONLY=${SUMMARY_ONLY:-0} # 1: only rewrite WORK/summary.md from WORK's CSVs
if [ "$SUMMARY_ONLY" != 1 ]; then
	log "building switchd, mkusers, rtpload, barerelay into $WORK"
	(
		cd "$REPO"
		[ -n "$SWITCHD_BIN" ] || go build -o "$WORK/switchd" ./cmd/switchd
		go build -o "$WORK/mkusers" ./bench/cmd/mkusers
		go build -o "$WORK/rtpload" ./bench/calls/rtpload
		go build -o "$WORK/barerelay" ./bench/calls/barerelay
	)
	[ -z "$SWITCHD_BIN" ] || cp "$SWITCHD_BIN" "$WORK/switchd"
fi

# --- measurement helpers (conventions of bench/register.sh) ----------------

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# core_busy N: busy ticks of cpuN; machine_busy: of all CPUs
core_busy() { awk -v c="cpu$1" '$1 == c {print $2+$3+$4+$7+$8+$9}' /proc/stat; }
machine_busy() { awk '/^cpu / {print $2+$3+$4+$7+$8+$9}' /proc/stat; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
udp_rcvbuf_errors() { awk '/^Udp:/ { if (h) { for (i = 1; i <= NF; i++) if (n[i] == "RcvbufErrors") print $i } else { h = 1; for (i = 1; i <= NF; i++) n[i] = $i } }' /proc/net/snmp; }
# sample_switchd: "goroutines rss_mib heap_inuse_mib"
sample_switchd() {
	curl -fs "$METRICS" 2>/dev/null |
		awk '/^go_goroutines / {g = $2} /^process_resident_memory_bytes / {r = $2} /^go_memstats_heap_inuse_bytes / {h = $2}
			END {printf "%d %.0f %.0f\n", g, r / 1048576, h / 1048576}'
}
# sample_mem: "heap_alloc_bytes stack_inuse_bytes rss_bytes goroutines" of switchd
sample_mem() {
	curl -fs "$METRICS" 2>/dev/null |
		awk '/^go_memstats_heap_alloc_bytes / {h = $2} /^go_memstats_stack_inuse_bytes / {s = $2}
			/^process_resident_memory_bytes / {r = $2} /^go_goroutines / {g = $2} END {printf "%.0f %.0f %.0f %d\n", h, s, r, g}'
}
# mem_per_call N: per-call memory of the profile run from the idle and window samples: live Go
# heap (heap profile after a forced GC, window less idle; sampled, so set GODEBUG=memprofilerate=1024
# for exact figures), goroutine stacks, RSS (includes the GC's headroom), goroutines
mem_per_call() {
	local heap
	heap=$(sed -n 's/.*of \([0-9.]*\)\([kMG]\)B total.*/\1 \2/p' "$WORK/switchd.heap.top" | head -1 |
		awk '{m = ($2 == "k") ? 1024 : ($2 == "M") ? 1048576 : 1073741824; printf "%.0f", $1 * m}')
	read -r _ s0 r0 g0 <"$WORK/switchd.idle.mem" || return 0
	read -r _ s1 r1 g1 <"$WORK/switchd.window.mem" || return 0
	awk -v n="$1" -v h="${heap:-0}" -v s="$((s1 - s0))" -v r="$((r1 - r0))" -v g="$((g1 - g0))" 'BEGIN {
		printf "memory per call at %d calls: live Go heap %.1f KB + goroutine stacks %.1f KB = %.1f KB; RSS %.1f KB; %.2f goroutines\n",
			n, h / n / 1000, s / n / 1000, (h + s) / n / 1000, r / n / 1000, g / n }'
}
median() { tr ' ' '\n' | awk NF | sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# wait_quiet: wait (at most QUIET_WAIT s) until every process uses less than
# QUIET_PCT% of SERVER_CPU and of GEN_CPU over 1 s (our own processes are idle
# then); prints the last reading "server% gen%".
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

# stf_col FILE NAME: column NAME of the last line of a sipp statistics file.
stf_col() { awk -F';' -v n="$2" 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == n) c = i} END {print $c}' "$1"; }
# hms_ms "HH:MM:SS:uuuuuu" (sipp's statistics times) -> milliseconds
hms_ms() { echo "$1" | awk -F: '{printf "%.1f", (($1 * 60 + $2) * 60 + $3) * 1000 + $4 / 1000}'; }
# rtd_p99 FILE: upper bound (ms) of the ResponseTimeRepartition1 bucket holding the 99th percentile
rtd_p99() {
	awk -F';' 'NR == 1 {for (i = 1; i <= NF; i++) if ($i ~ /^ResponseTimeRepartition1_/) {c[++k] = i; b[k] = substr($i, 26)}}
		END {for (j = 1; j <= k; j++) t += $c[j]; if (t == 0) {print "-"; exit}
			for (j = 1; j <= k; j++) {s += $c[j]; if (s >= 0.99 * t) {print b[j]; exit}}}' "$1"
}

# --- switchd -----------------------------------------------------------------

cat >"$WORK/switchd.yaml" <<EOF
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
EOF
if [ "$SUMMARY_ONLY" != 1 ]; then
	rm -rf "$DATA"
	mkdir -p "$DATA"
	"$WORK/mkusers" -db "$DATA/switchd.db" -first 1001 -n 2 -csv "$WORK/users.csv"
	{ echo SEQUENTIAL; grep '^1001;' "$WORK/users.csv"; } >"$WORK/caller.csv"
	{ echo SEQUENTIAL; grep '^1002;' "$WORK/users.csv"; } >"$WORK/callee.csv"
fi

start_switchd() {
	nice -n "$NICE" taskset -c "$SERVER_CPU" "$WORK/switchd" serve -c "$WORK/switchd.yaml" >>"$WORK/switchd.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 100); do
		curl -fs "$METRICS" >/dev/null 2>&1 && break
		sleep 0.1
	done
	curl -fs "$METRICS" >/dev/null || { log "switchd did not start:"; tail "$WORK/switchd.log" >&2; exit 1; }
	# the callee registers from the port its UAS scenario then answers on
	timeout 30 "$SIPP" "127.0.0.1:$SIP_PORT" -sf "$CALLS/register.xml" -inf "$WORK/callee.csv" -i 127.0.0.1 \
		-p "$UAS_PORT" -mp 17090 -m 1 -timeout 10s -nostdin >"$WORK/register.out" 2>&1 ||
		{ log "callee registration failed"; cat "$WORK/register.out" >&2; exit 1; }
}

stop_switchd() {
	[ -n "$SERVER_PID" ] || return 0
	kill "$SERVER_PID" 2>/dev/null || true
	# calls still up (an overloaded run) drain for sip.drain_timeout, then get BYEs nobody answers
	for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

# uas CALLS LIMIT_S TAG [LOG]: the callee sipp in the background (pid in UAS_PID).
uas() {
	local calls=$1 limit=$2 tag=$3 logf=${4:-}
	local extra=()
	[ -n "$logf" ] && extra=(-trace_logs -log_file "$logf")
	rm -f "$WORK/uas_$tag.csv"
	timeout -k 5 $((limit + 10)) nice -n "$NICE" taskset -c "$GEN_CPU" "$SIPP" -sf "$CALLS/uas.xml" \
		-i 127.0.0.1 -p "$UAS_PORT" -mp 17080 -key rtp_ip 127.0.0.1 -key rtp_port "$GEN_B" \
		-m "$calls" -timeout "${limit}s" -buff_size 4194304 -nostdin \
		-trace_stat -stf "$WORK/uas_$tag.csv" -fd 3600 -trace_err -error_file "$WORK/uas_$tag.err" \
		"${extra[@]}" >"$WORK/uas_$tag.out" 2>&1 &
	UAS_PID=$!
	PIDS+=("$UAS_PID")
	sleep 0.3
}

# uac RATE CALLS HOLD_MS LIMIT_S TAG [LOG]: the caller sipp in the foreground.
uac() {
	local rate=$1 calls=$2 hold=$3 limit=$4 tag=$5 logf=${6:-}
	local extra=()
	[ -n "$logf" ] && extra=(-trace_logs -log_file "$logf")
	rm -f "$WORK/uac_$tag.csv"
	timeout -k 5 $((limit + 10)) nice -n "$NICE" taskset -c "$GEN_CPU" "$SIPP" "127.0.0.1:$SIP_PORT" \
		-sf "$CALLS/uac.xml" -inf "$WORK/caller.csv" -s 1002 -i 127.0.0.1 -p "$UAC_PORT" -mp 17070 \
		-key rtp_ip 127.0.0.1 -key rtp_port "$GEN_A" \
		-r "$rate" -rp 1000 -m "$calls" -l 20000 -d "$hold" -timeout "${limit}s" -recv_timeout 10000 \
		-buff_size 4194304 -nostdin -trace_stat -stf "$WORK/uac_$tag.csv" -fd 3600 \
		-trace_err -error_file "$WORK/uac_$tag.err" "${extra[@]}" >"$WORK/uac_$tag.out" 2>&1 || true
}

# --- part (a): call setup rate -------------------------------------------------

part_a() {
	local CSV=$WORK/runs_a.csv
	echo "rate,run,calls,succ,fail,unexpected,retrans,wall_s,achieved,rtd_ms,switchd_cpu_s,us_per_call,other_cpu_pct,quiet_before,rcvbuf_errors,goroutines_mid,rss_mib_mid,heap_mib_mid,uas_fail,clean" >"$CSV"
	start_switchd
	log "(a) switchd pid $SERVER_PID on cpu $SERVER_CPU; sipp on cpu $GEN_CPU; idle: goroutines/RSS MiB $(sample_switchd)"
	local total=0 r
	for r in $RATES; do total=$((total + r * DURATION_A * RUNS_A)); done
	[ "$PROFILE" = 1 ] && total=$((total + PROFILE_RATE_A * 13))
	local nrates
	nrates=$(echo "$RATES" | wc -w)
	local budget=$((nrates * RUNS_A * (DURATION_A + 40) + AFTER_WAIT + 200))
	uas $((total + 100)) "$budget" a
	uac 50 100 200 60 a_warmup
	log "(a) warm-up: $(stf_col "$WORK/uac_a_warmup.csv" 'SuccessfulCall(C)') of 100 calls"
	local rate run
	for rate in $RATES; do
		local calls=$((rate * DURATION_A)) clean_runs=0
		for run in $(seq "$RUNS_A"); do
			local quiet c0 b0 s0 e0 t0
			quiet=$(wait_quiet | tr ' ' '/')
			c0=$(cpu_ticks "$SERVER_PID"); b0=$(machine_busy); e0=$(udp_rcvbuf_errors); t0=$(date +%s.%N)
			(sleep "$(echo "$DURATION_A / 2" | bc -l)"; sample_switchd >"$WORK/mid.txt") &
			local sampler=$!
			uac "$rate" "$calls" "$HOLD_MS" $((DURATION_A + 40)) "a_${rate}_$run"
			wait "$sampler" || true
			local c1 b1 e1 t1 stf=$WORK/uac_a_${rate}_$run.csv
			c1=$(cpu_ticks "$SERVER_PID"); b1=$(machine_busy); e1=$(udp_rcvbuf_errors); t1=$(date +%s.%N)
			local succ=0 fail=$calls unexp=0 retr=0 wall=1 rtd=- achieved=0
			if [ -s "$stf" ]; then
				succ=$(stf_col "$stf" 'SuccessfulCall(C)')
				fail=$(stf_col "$stf" 'FailedCall(C)')
				unexp=$(stf_col "$stf" 'FailedUnexpectedMessage(C)')
				retr=$(stf_col "$stf" 'Retransmissions(C)')
				rtd=$(hms_ms "$(stf_col "$stf" 'ResponseTime1(C)')")/$(rtd_p99 "$stf")
				wall=$(tail -1 "$stf" | awk -F';' '{split($1, a, "\t"); split($3, b, "\t"); printf "%.3f", b[3] - a[3]}')
				# sipp's wall time includes the last calls' HOLD_MS and BYE
				achieved=$(echo "$succ / ($wall - $HOLD_MS / 1000)" | bc)
			fi
			fail=$((calls - succ > fail ? calls - succ : fail))
			local scpu=$((c1 - c0)) us=- other span
			[ "$succ" -gt 0 ] && us=$(echo "scale=1; $scpu * 1000000 / $HZ / $succ" | bc)
			span=$(echo "$t1 - $t0" | bc)
			# other processes and sipp: machine busy time less switchd's (approximate)
			other=$(echo "scale=0; (($b1 - $b0) - $scpu) * 100 / $HZ / $span" | bc)
			[ "$other" -lt 0 ] && other=0 # /proc/stat's tick sampling undercounts short bursts
			local gor rss heap clean=no
			read -r gor rss heap <"$WORK/mid.txt" || { gor=-; rss=-; heap=-; }
			if [ "$fail" -eq 0 ] && [ "$((achieved * 100))" -ge "$((rate * 90))" ]; then
				clean=yes; clean_runs=$((clean_runs + 1))
			fi
			echo "$rate,$run,$calls,$succ,$fail,$unexp,$retr,$wall,$achieved,$rtd,$(echo "scale=2; $scpu / $HZ" | bc),$us,$other,$quiet,$((e1 - e0)),$gor,$rss,$heap,-,$clean" >>"$CSV"
			log "(a) rate $rate run $run (quiet before: cores $quiet%): ok $succ fail $fail (unexpected $unexp) retrans $retr achieved $achieved/s INVITE->200 ${rtd}ms switchd ${us}us/call; others+sipp ${other}% of a core; goroutines $gor RSS ${rss}MiB heap ${heap}MiB -> $clean"
		done
	done
	sleep 1.5
	echo "after_1s $(sample_switchd)" >"$WORK/a_after.txt"
	log "(a) 1 s after the last call: goroutines/RSS MiB $(sample_switchd)"
	if [ "$AFTER_WAIT" -gt 0 ]; then
		sleep "$AFTER_WAIT"
		echo "after_${AFTER_WAIT}s $(sample_switchd)" >>"$WORK/a_after.txt"
		log "(a) $AFTER_WAIT s later: goroutines/RSS MiB $(sample_switchd)"
	fi
	if [ "$PROFILE" = 1 ]; then
		log "(a) 10 s CPU profile at $PROFILE_RATE_A calls/s"
		local token
		token=$(cat "$DATA/admin.token")
		(sleep 2; curl -fs -H "Authorization: Bearer $token" \
			"http://127.0.0.1:$HTTP_PORT/debug/pprof/profile?seconds=10" -o "$WORK/switchd_a.cpu.pprof") &
		local profiler=$!
		uac "$PROFILE_RATE_A" $((PROFILE_RATE_A * 13)) "$HOLD_MS" 60 a_profile
		wait "$profiler" || true
		(cd "$REPO" && go tool pprof -top -nodecount=40 "$WORK/switchd" "$WORK/switchd_a.cpu.pprof" 2>/dev/null) >"$WORK/switchd_a.cpu.top" || true
		(cd "$REPO" && go tool pprof -top -cum -nodecount=60 "$WORK/switchd" "$WORK/switchd_a.cpu.pprof" 2>/dev/null) >"$WORK/switchd_a.cpu.cum" || true
	fi
	# the callee's view: calls it failed
	wait "$UAS_PID" 2>/dev/null || true
	local uf
	uf=$(stf_col "$WORK/uas_a.csv" 'FailedCall(C)' 2>/dev/null || echo -)
	echo "uas_failed $uf" >>"$WORK/a_after.txt"
	stop_switchd
}

# --- part (b): concurrent calls with RTP ---------------------------------------

# Packets into switchd (from the generator's ports to switchd's RTP range) and
# out of it, captured on lo by two tshark processes with these capture filters
# (two files, so capinfos counts them without dissecting millions of packets).
# tshark stops by itself (-a duration): stopped with a signal it loses the
# packets still in its capture buffer.
FILTER_IN="udp and dst portrange $RTP_MIN-$RTP_MAX and (src port $GEN_A or src port $GEN_B)"
FILTER_OUT="udp and src portrange $RTP_MIN-$RTP_MAX and (dst port $GEN_A or dst port $GEN_B)"

# capture_start TAG SECONDS: starts both captures (pids in CAP_PIDS) and
# waits until they capture
capture_start() {
	CAP_PIDS=()
	local d f
	for d in in out; do
		f=FILTER_${d^^}
		rm -f "$WORK/$1.$d.pcapng"
		taskset -c "$GEN_CPU" tshark -i lo -f "${!f}" -s 64 -B 1024 -q -a "duration:$2" -w "$WORK/$1.$d.pcapng" \
			>"$WORK/$1.$d.tshark" 2>&1 &
		CAP_PIDS+=($!)
		PIDS+=($!)
	done
	for _ in $(seq 300); do
		grep -q "Capture started" "$WORK/$1.in.tshark" && grep -q "Capture started" "$WORK/$1.out.tshark" && return 0
		sleep 0.1
	done
	log "tshark did not start capturing"
}

# capture_stop TAG: waits for both captures to end; prints "in out dropped"
capture_stop() {
	local p d n dropped=0
	for p in "${CAP_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	local counts=()
	for d in in out; do
		n=$(capinfos -c -M -T -r "$WORK/$1.$d.pcapng" 2>/dev/null | awk '{print $NF}' || true)
		counts+=("${n:-0}")
		dropped=$((dropped + $(grep -o '[0-9]* packets\? dropped' "$WORK/$1.$d.tshark" | awk '{s += $1} END {print s + 0}' || true)))
		rm -f "$WORK/$1.$d.pcapng" # large; the counts are kept
	done
	echo "${counts[0]} ${counts[1]} $dropped"
}

# b_run N RUN MODE CAPTURE PROFILE: one run; appends to runs_b.csv.
b_run() {
	local n=$1 run=$2 mode=$3 capture=$4 prof=$5
	local tag=b_${mode}_${n}_$run
	local ramp=$(((n + SETUP_RATE - 1) / SETUP_RATE))
	local hold_s=$((ramp + SETUP_MARGIN + SETTLE + WINDOW + 3))
	local quiet pid rss0 gor0=-
	if [ "$mode" = switchd ]; then
		start_switchd
		pid=$SERVER_PID
		gor0=$(sample_switchd | cut -d' ' -f1)
	else
		nice -n "$NICE" taskset -c "$SERVER_CPU" "$WORK/barerelay" -n "$n" -base "$RTP_MIN" \
			-a "127.0.0.1:$GEN_A" -b "127.0.0.1:$GEN_B" >"$WORK/$tag.bare.out" 2>&1 &
		pid=$!
		PIDS+=("$pid")
		sleep 0.5
	fi
	quiet=$(wait_quiet | tr ' ' '/')
	rss0=$(rss_kib "$pid")
	if [ "$prof" = 1 ]; then
		# idle baseline for the per-call memory of the profile run (heap after a forced GC)
		curl -fs -H "Authorization: Bearer $(cat "$DATA/admin.token")" -o "$WORK/switchd.idle.heap.pprof" \
			"http://127.0.0.1:$HTTP_PORT/debug/pprof/heap?gc=1" || true
		sample_mem >"$WORK/switchd.idle.mem"
	fi
	[ "$capture" = 1 ] && capture_start "$tag" $((ramp + SETUP_MARGIN + SETTLE + WINDOW + 8))
	local genargs=(-a "127.0.0.1:$GEN_A" -b "127.0.0.1:$GEN_B" -settle "${SETTLE}s" -window "${WINDOW}s"
		-pid "$pid" -drop-lo "$RTP_MIN" -drop-hi "$RTP_MAX" -mode "$mode" -out "$WORK/$tag.json")
	if [ "$mode" = switchd ]; then
		rm -f "$WORK/$tag.alog" "$WORK/$tag.blog"
		uas "$n" $((hold_s + ramp + 30)) "$tag" "$WORK/$tag.blog"
		nice -n "$NICE" taskset -c "$GEN_CPU" "$WORK/rtpload" "${genargs[@]}" -calls "$n" -learn-timeout "$((ramp + SETUP_MARGIN))s" \
			-alog "$WORK/$tag.alog" -blog "$WORK/$tag.blog" -metrics "$METRICS" 2>"$WORK/$tag.gen" &
		local gen=$!
		PIDS+=("$gen")
		if [ "$prof" = 1 ]; then
			local token
			token=$(cat "$DATA/admin.token")
			(
				sleep $((ramp + SETTLE + 1))
				curl -fs -H "Authorization: Bearer $token" -o "$WORK/switchd.cpu.pprof" \
					"http://127.0.0.1:$HTTP_PORT/debug/pprof/profile?seconds=$((WINDOW < 12 ? WINDOW - 2 : 10))"
				# gc=1: the live heap with the calls up (without it the profile is as of the last
				# GC, which can be mid ramp-up)
				curl -fs -H "Authorization: Bearer $token" -o "$WORK/switchd.heap.pprof" "http://127.0.0.1:$HTTP_PORT/debug/pprof/heap?gc=1"
				sample_mem >"$WORK/switchd.window.mem"
				curl -fs -H "Authorization: Bearer $token" -o "$WORK/switchd.goroutines.txt" "http://127.0.0.1:$HTTP_PORT/debug/pprof/goroutine?debug=1"
			) &
			PIDS+=($!)
		fi
		uac "$SETUP_RATE" "$n" $((hold_s * 1000)) $((hold_s + ramp + 30)) "$tag" "$WORK/$tag.alog" &
		local uacp=$!
		wait "$gen" || true
		wait "$uacp" || true
		wait "$UAS_PID" 2>/dev/null || true
		sleep 1.5
	else
		nice -n "$NICE" taskset -c "$GEN_CPU" "$WORK/rtpload" "${genargs[@]}" -bare "$n" -bare-base "$RTP_MIN" 2>"$WORK/$tag.gen" || true
		sleep 0.5
	fi
	local gor_after=-
	[ "$mode" = switchd ] && gor_after=$(sample_switchd | cut -d' ' -f1)
	local cin=- cout=- closs=- cdrop=-
	if [ "$capture" = 1 ]; then
		read -r cin cout cdrop < <(capture_stop "$tag")
		closs=-
		[ "$cin" -gt 0 ] && closs=$(echo "scale=4; ($cin - $cout) * 100 / $cin" | bc)
	fi
	local ucalls=- ufail=-
	if [ "$mode" = switchd ]; then
		ucalls=$(stf_col "$WORK/uac_$tag.csv" 'SuccessfulCall(C)' 2>/dev/null || echo 0)
		ufail=$(stf_col "$WORK/uac_$tag.csv" 'FailedCall(C)' 2>/dev/null || echo -)
		stop_switchd
	else
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if [ ! -s "$WORK/$tag.json" ]; then
		log "(b) $mode $n run $run: no result"; cat "$WORK/$tag.gen" >&2
		return
	fi
	# one CSV row from the JSON
	python3 - "$WORK/$tag.json" "$n" "$run" "$capture" "$rss0" "$gor0" "$gor_after" "$cin" "$cout" "$closs" "${cdrop:--}" \
		"$ucalls" "$ufail" "$quiet" "$SERVER_CPU" "$GEN_CPU" "$LOSS_MAX" "$JITTER_MAX" >>"$WORK/runs_b.csv" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
n, run, cap, rss0, gor0, gora, cin, cout, closs, cdrop, ucalls, ufail, quiet, scpu, gcpu, lmax, jmax = sys.argv[2:]
busy = r["cpu_busy_pct"]
rss_per_call = (r["rss_kib"] - int(rss0)) / int(n)
up = r["learned_a"] >= int(n) and r["learned_b"] >= int(n)
ok = up and r["loss_pct"] < float(lmax) and r["jitter_mean_ms"] < float(jmax) and (closs in "-" or float(closs) < float(lmax))
row = [r["mode"], n, run, cap, r["learned_a"], r["learned_b"], ucalls, ufail, round(r["pps_in"]), round(r["pps_out"]),
       "%.4f" % r["loss_pct"], r["streams_lossy"], r["streams_dead"], cin, cout, closs, cdrop,
       "%.3f" % r["jitter_mean_ms"], "%.3f" % r["jitter_max_ms"], "%.2f" % r["delay_p50_ms"], "%.2f" % r["delay_p99_ms"],
       "%.2f" % r["delay_max_ms"], "%.1f" % r["target_cpu_pct"], "%.0f" % r["ns_per_pkt"], "%.0f" % r["gen_cpu_pct"],
       "%.2f" % r["gen_lag_p99_ms"], "%.1f" % max(0, busy.get("cpu" + scpu, 0) - r["target_cpu_pct"]),
       "%.1f" % max(0, busy.get("cpu" + gcpu, 0) - r["gen_cpu_pct"]), quiet,
       r["rss_kib"], rss0, "%.1f" % rss_per_call, r["heap_inuse_kib"], r["stack_inuse_kib"], gor0, r["goroutines"], gora,
       r["target_sock_drops"], r["gen_sock_drops"], "yes" if ok else "no"]
print(",".join(str(x) for x in row))
EOF
	log "(b) $mode $n run $run: $(tail -1 "$WORK/$tag.gen") tshark in/out $cin/$cout loss ${closs}% (capture drops ${cdrop:--}) sipp ok/fail $ucalls/$ufail -> $(tail -1 "$WORK/runs_b.csv" | awk -F, '{print $NF}')"
}

# step_pass N: yes when most plain switchd runs at N passed and the capture
# run (if any) saw tshark loss below LOSS_MAX with no capture drops.
step_pass() {
	local rows nr np cap
	rows=$(awk -F, -v n="$1" '$1 == "switchd" && $2 == n && $3 ~ /^[0-9]+$/' "$WORK/runs_b.csv")
	nr=$(echo "$rows" | grep -c . || true); np=$(echo "$rows" | grep -c ',yes$' || true)
	cap=$(awk -F, -v n="$1" -v m="$LOSS_MAX" '$1 == "switchd" && $2 == n && $3 == "c" {print ($16 != "-" && $17 == 0 && $16 < m && $NF == "yes") ? "yes" : "no"}' "$WORK/runs_b.csv")
	if [ "$nr" -gt 0 ] && [ "$((np * 2))" -gt "$nr" ] && [ "${cap:-yes}" = yes ]; then echo yes; else echo no; fi
}

part_b() {
	echo "mode,calls,run,capture,learned_a,learned_b,sipp_ok,sipp_fail,pps_in,pps_out,loss_pct,streams_lossy,streams_dead,tshark_in,tshark_out,tshark_loss_pct,capture_drops,jitter_mean_ms,jitter_max_ms,delay_p50_ms,delay_p99_ms,delay_max_ms,target_cpu_pct,ns_per_pkt,gen_cpu_pct,gen_lag_p99_ms,other_on_server_cpu_pct,other_on_gen_cpu_pct,quiet_before,rss_kib,rss0_kib,rss_kib_per_call,heap_inuse_kib,stack_inuse_kib,goroutines_idle,goroutines_window,goroutines_after,target_drops,gen_drops,pass" >"$WORK/runs_b.csv"
	local n run first_fail=
	for n in $CONC; do
		for run in $(seq "$RUNS_B"); do
			b_run "$n" "$run" switchd 0 0
			[ "$BARE" = 1 ] && b_run "$n" "$run" bare 0 0
		done
		[ "$TSHARK" = 1 ] && b_run "$n" c switchd 1 0
		if [ -z "$first_fail" ] && [ "$(step_pass "$n")" != yes ]; then
			first_fail=$n
		fi
	done
	if [ "$PROFILE" = 1 ]; then
		local pc=${PROFILE_CONC:-${first_fail:-$(echo "$CONC" | awk '{print $NF}')}}
		log "(b) profile run at $pc calls"
		b_run "$pc" p switchd 0 1
		(cd "$REPO" && go tool pprof -top -nodecount=40 "$WORK/switchd" "$WORK/switchd.cpu.pprof" 2>/dev/null) >"$WORK/switchd.cpu.top" || true
		(cd "$REPO" && go tool pprof -top -cum -nodecount=40 "$WORK/switchd" "$WORK/switchd.cpu.pprof" 2>/dev/null) >"$WORK/switchd.cpu.cum" || true
		(cd "$REPO" && go tool pprof -top -sample_index=inuse_space -nodecount=40 -base "$WORK/switchd.idle.heap.pprof" \
			"$WORK/switchd" "$WORK/switchd.heap.pprof" 2>/dev/null) >"$WORK/switchd.heap.top" || true
		mem_per_call "$pc" >"$WORK/switchd.mem.txt"
		cat "$WORK/switchd.mem.txt" >&2
	fi
}

# --- part m: the media package's microbenchmarks ------------------------------

# BenchmarkRelay (phone -> Relay -> phone in one process) against
# BenchmarkBareUDPLoop (the same hop through a plain Go receive+send loop),
# both on SERVER_CPU and GEN_CPU; -count 3 for medians (benchstat-style by hand).
part_m() {
	log "(m) go test -bench 'Relay|BareUDPLoop' ./media/"
	(cd "$REPO" && nice -n "$NICE" taskset -c "$SERVER_CPU,$GEN_CPU" go test -run XXX -bench 'BenchmarkRelay$|BenchmarkBareUDPLoop$' \
		-benchtime "${BENCHTIME:-1s}" -count 3 ./media/) >"$WORK/media_bench.txt" 2>&1 || true
	awk '/^Benchmark/ {n[$1] = n[$1] " " $3} END {for (k in n) print k, n[k]}' "$WORK/media_bench.txt" | sort >"$WORK/media_bench.sum"
}

# --- summary: medians per step --------------------------------------------------

summarize() {
	if [ -s "$WORK/runs_a.csv" ]; then
		echo "### (a) call setup rate (medians of $RUNS_A runs of ${DURATION_A}s, calls ${HOLD_MS} ms long)"
		echo
		echo "| attempted calls/s | achieved/s | failed | unexpected msgs | sipp retrans | INVITE→200 ms mean/p99 bucket | switchd CPU µs/call | sipp+others CPU % (approx.) | goroutines (mid-run) | RSS MiB (mid-run) | Go heap in use MiB (mid-run) | clean runs |"
		echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for rate in $RATES; do
			rows=$(awk -F, -v r="$rate" 'NR > 1 && $1 == r' "$WORK/runs_a.csv")
			[ -z "$rows" ] && continue
			col() { echo "$rows" | cut -d, -f"$1" | tr '\n' ' ' | median; }
			n=$(echo "$rows" | wc -l); nc=$(echo "$rows" | grep -c ',yes$' || true)
			echo "| $rate | $(col 9) | $(col 5) | $(col 6) | $(col 7) | $(col 10) | $(col 12) | $(col 13) | $(col 16) | $(col 17) | $(col 18) | $nc/$n |"
		done
		echo
		best=$(for rate in $RATES; do
			rows=$(awk -F, -v r="$rate" 'NR > 1 && $1 == r' "$WORK/runs_a.csv")
			n=$(echo "$rows" | wc -l); nc=$(echo "$rows" | grep -c ',yes$' || true)
			[ "$((nc * 2))" -gt "$n" ] && echo "$rate"
		done | sort -n | tail -1 || true)
		echo "Highest rate with zero failed calls (majority of runs): ${best:-none}/s."
		echo "After the last run (goroutines, RSS MiB, heap in use MiB): $(tr '\n' ';' <"$WORK/a_after.txt")"
		echo
	fi
	if [ -s "$WORK/runs_b.csv" ]; then
		echo "### (b) concurrent calls, G.711 20 ms both ways (medians of $RUNS_B runs; window ${WINDOW}s after ${SETTLE}s settle; calls set up at ${SETUP_RATE}/s)"
		echo
		echo "| relay | calls | pkt/s in | pkt/s out | loss % gen (worst run) | jitter added ms mean / worst stream | delay ms p50 / p99 / max | relay CPU % | ns/pkt | gen CPU % | others on relay / gen core % | RSS KiB/call | heap+stack KiB | goroutines window / after | runs passed |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for n in $CONC; do
			for mode in switchd bare; do
				rows=$(awk -F, -v n="$n" -v m="$mode" '$1 == m && $2 == n && $3 ~ /^[0-9]+$/' "$WORK/runs_b.csv")
				[ -z "$rows" ] && continue
				col() { echo "$rows" | cut -d, -f"$1" | tr '\n' ' ' | median; }
				cmax() { echo "$rows" | cut -d, -f"$1" | sort -g | tail -1; }
				nr=$(echo "$rows" | wc -l); np=$(echo "$rows" | grep -c ',yes$' || true)
				mem=-; kib=-; gors=-
				if [ "$mode" = switchd ]; then
					kib=$(col 32)
					mem="$(col 33) + $(col 34)"
					gors="$(col 36) / $(col 37)"
				fi
				echo "| $mode | $n | $(col 9) | $(col 10) | $(cmax 11) | $(col 18) / $(cmax 19) | $(col 20) / $(col 21) / $(cmax 22) | $(col 23) | $(col 24) | $(col 25) | $(col 27) / $(col 28) | $kib | $mem | $gors | $np/$nr |"
			done
		done
		echo
		if [ "$TSHARK" = 1 ]; then
			echo 'Loss counted by tshark on lo (one extra switchd run per step; capture filters `'"$FILTER_IN"'` and `'"$FILTER_OUT"'`):'
			echo
			echo "| calls | packets into switchd | packets out | loss % | capture drops | generator loss % in that run | relay CPU % (with capture) |"
			echo "|---:|---:|---:|---:|---:|---:|---:|"
			awk -F, '$1 == "switchd" && $3 == "c" {printf "| %s | %s | %s | %s | %s | %s | %s |\n", $2, $14, $15, $16, $17, $11, $23}' "$WORK/runs_b.csv"
			echo
		fi
		for n in $CONC; do
			s=$(awk -F, -v n="$n" '$1 == "switchd" && $2 == n && $3 ~ /^[0-9]+$/' "$WORK/runs_b.csv" | cut -d, -f24 | tr '\n' ' ' | median)
			b=$(awk -F, -v n="$n" '$1 == "bare" && $2 == n' "$WORK/runs_b.csv" | cut -d, -f24 | tr '\n' ' ' | median)
			if [ "$b" != "-" ] && [ "$s" != "-" ]; then
				echo "- $n calls: switchd $s ns/pkt vs bare Go UDP loop $b ns/pkt = $(echo "scale=2; $s / $b" | bc)x"
			fi
		done
		best=$(for n in $CONC; do [ "$(step_pass "$n")" = yes ] && echo "$n"; done | sort -n | tail -1 || true)
		echo
		echo "Highest concurrency meeting loss < ${LOSS_MAX}% (generator and tshark) and mean added jitter < ${JITTER_MAX} ms: ${best:-none}."
	fi
	if [ -s "$WORK/media_bench.sum" ]; then
		echo "### media microbenchmarks (ns/op, median of 3)"
		echo
		echo "| benchmark | ns/op |"
		echo "|---|---:|"
		while read -r name vals; do echo "| $name | $(echo "$vals" | median) |"; done <"$WORK/media_bench.sum"
		echo
	fi
	echo
	echo "Wall time $(($(date +%s) - T0)) s."
}

# --- the run --------------------------------------------------------------------

log "work directory $WORK"
log "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
log "sipp: $($SIPP -v 2>&1 | grep -o 'SIPp v[^ ,-]*' | head -1); go: $(go version | cut -d' ' -f3)"
T0=$(date +%s)
if [ "$SUMMARY_ONLY" != 1 ]; then
	for p in $PARTS; do
		"part_$p"
	done
fi
summarize >"$WORK/summary.md"

cat "$WORK/summary.md"
if [ -s "$WORK/switchd.cpu.top" ]; then
	echo
	echo "switchd CPU profile ($WORK/switchd.cpu.pprof):"
	sed -n '1,30p' "$WORK/switchd.cpu.top"
fi
log "done: $WORK"
