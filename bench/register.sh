#!/usr/bin/env bash
# REGISTER-with-digest-auth benchmark: switchd vs Kamailio, driven by sipp.
#
#   bench/register.sh                       # the full run (~6-9 minutes)
#   RATES="4000 8000" RUNS=1 bench/register.sh   # a quick look
#
# For each server in turn (switchd, then kamailio with an in-memory
# registrar: bench/kamailio.cfg) it registers USERS extensions once
# (warm-up), then for each rate in RATES runs sipp RUNS times for DURATION
# seconds of load: REGISTER -> 401 -> REGISTER with Authorization -> 200,
# USERS users in a SEQUENTIAL injection file. The server is pinned to CPU
# SERVER_CPU, sipp to CPU SIPP_CPU. It records per run: attempted and
# achieved rate, failed registrations, sipp retransmissions, the server's
# CPU time (utime+stime of its whole process tree, /proc/PID/stat) per
# completed registration, kernel UDP drops (the server socket's drop
# counter and /proc/net/snmp InErrors/RcvbufErrors), CPU used by other
# processes on the machine meanwhile (before each run it waits up to
# QUIET_WAIT s for them to calm down), and for switchd its goroutines and
# RSS sampled from /metrics in the middle of the run. A run is clean when
# no registration failed, no request had to be retransmitted (nothing was
# lost or answered late) and the achieved rate is at least 90% of the
# attempted one (sipp itself jitters on a busy machine); a rate step is
# clean when most of its runs are. After STOP_AFTER consecutive unclean
# steps a server is not pushed further.
# Finally (PROFILE=1) it takes a 10 s CPU profile of switchd at
# PROFILE_RATE.
#
# Output: WORK/runs.csv (every run), WORK/summary.md (medians per step),
# WORK/switchd.cpu.pprof and the raw sipp/server logs, all under WORK.
# All traffic is on 127.0.0.1; every sipp run is bounded by -m, -timeout
# and timeout(1).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/switchd-regbench.$$}
RATES=${RATES:-"4000 8000 10000 12000 14000 16000"}
RUNS=${RUNS:-3}
DURATION=${DURATION:-5}
USERS=${USERS:-10000}
SERVERS=${SERVERS:-"switchd kamailio"}
SERVER_CPU=${SERVER_CPU:-0}
SIPP_CPU=${SIPP_CPU:-1}
NICE=${NICE:--15}           # both servers and sipp: the machine is shared, keep others' jobs from skewing the run
STOP_AFTER=${STOP_AFTER:-2}
QUIET_PCT=${QUIET_PCT:-25}  # before a run, wait (up to QUIET_WAIT s) until other processes use less CPU than this
QUIET_WAIT=${QUIET_WAIT:-6}
PROFILE=${PROFILE:-1}
PROFILE_RATE=${PROFILE_RATE:-8000}
SIP_PORT=${SIP_PORT:-35060}
HTTP_PORT=${HTTP_PORT:-38080}
KAM_PORT=${KAM_PORT:-35070}
SIPP_PORT=${SIPP_PORT:-35061}
SWITCHD_BIN=${SWITCHD_BIN:-}
MKUSERS_BIN=${MKUSERS_BIN:-}
SIPP=${SIPP:-sipp}
KAMAILIO=${KAMAILIO:-kamailio}
HZ=$(getconf CLK_TCK)

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
log() { echo "[$(date +%T)] $*" >&2; }

SERVER_PID=
cleanup() {
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	SERVER_PID=
}
trap cleanup EXIT

# SWITCHD_BIN and MKUSERS_BIN (built from the same tree) compare other builds.
if [ -z "$SWITCHD_BIN" ]; then
	log "building switchd and bench/cmd/mkusers"
	(cd "$REPO" && go build -o "$WORK/switchd" ./cmd/switchd && go build -o "$WORK/mkusers" ./bench/cmd/mkusers)
	SWITCHD_BIN=$WORK/switchd
elif [ -n "${MKUSERS_BIN:-}" ]; then
	cp "$MKUSERS_BIN" "$WORK/mkusers"
else
	(cd "$REPO" && go build -o "$WORK/mkusers" ./bench/cmd/mkusers)
fi

# --- measurement helpers -------------------------------------------------

# tree_pids PID: PID and its direct children (kamailio forks its workers).
tree_pids() { echo "$1"; ps -o pid= --ppid "$1" 2>/dev/null || true; }
# cpu_ticks PID: utime+stime of PID and its children, in clock ticks.
cpu_ticks() {
	local t=0 p
	for p in $(tree_pids "$1"); do
		[ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}
# machine_busy: busy ticks of all CPUs (user+nice+system+irq+softirq+steal).
machine_busy() { awk '/^cpu / {print $2+$3+$4+$7+$8+$9}' /proc/stat; }
# udp_snmp: "InErrors RcvbufErrors" from /proc/net/snmp.
udp_snmp() { awk '/^Udp:/ { if (h) { for (i = 1; i <= NF; i++) if (n[i] == "InErrors") e = $i; else if (n[i] == "RcvbufErrors") r = $i; print e, r } else { h = 1; for (i = 1; i <= NF; i++) n[i] = $i } }' /proc/net/snmp; }
# sock_drops PORT: drop counter of the UDP socket bound to 127.0.0.1:PORT.
sock_drops() { ss -uamn "sport = :$1" 2>/dev/null | grep -o 'skmem:([^)]*)' | grep -o ',d[0-9]*' | tr -d ',d' | head -1 || echo 0; }
# rss_kib PID: proportional set size of the process tree (shared memory split fairly).
pss_kib() {
	local t=0 p v
	for p in $(tree_pids "$1"); do
		v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# wait_quiet PID: wait until processes other than PID's tree use less than
# QUIET_PCT% of one CPU (over 1 s), for at most QUIET_WAIT seconds; prints the last reading.
wait_quiet() {
	local i b0 c0 b1 c1 other=0
	for i in $(seq "$QUIET_WAIT"); do
		b0=$(machine_busy); c0=$(cpu_ticks "$1"); sleep 1; b1=$(machine_busy); c1=$(cpu_ticks "$1")
		other=$(((b1 - b0 - (c1 - c0)) * 100 / HZ))
		[ "$other" -lt "$QUIET_PCT" ] && break
	done
	echo "$other"
}

# calib_ms: milliseconds SERVER_CPU takes for a fixed CPU-bound job (MD5 of
# 64 MiB). The VM shares its host: when this rises, every CPU figure of the
# run rises with it.
calib_ms() {
	local t0 t1
	t0=$(date +%s%N)
	head -c 67108864 /dev/zero | taskset -c "$SERVER_CPU" md5sum >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

median() { tr ' ' '\n' | { grep -E '^-?[0-9.]+$' || true; } | sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# --- sipp ----------------------------------------------------------------

SCENARIO=$REPO/bench/register_auth.xml
USERS_CSV=$WORK/users.csv

# run_sipp PORT RATE CALLS TAG: one bounded sipp run; prints "succ fail retrans sipp_ticks wall".
run_sipp() {
	local port=$1 rate=$2 calls=$3 tag=$4
	local stf=$WORK/sipp_$tag.csv out=$WORK/sipp_$tag.out
	local limit=$((DURATION + 20))
	rm -f "$stf"
	local t0 t1
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	timeout -k 5 $((limit + 10)) nice -n "$NICE" taskset -c "$SIPP_CPU" "$SIPP" "127.0.0.1:$port" \
		-sf "$SCENARIO" -inf "$USERS_CSV" -i 127.0.0.1 -p "$SIPP_PORT" \
		-r "$rate" -rp 1000 -m "$calls" -l 30000 -timeout "${limit}s" -recv_timeout 5000 \
		-default_behaviors all,-bye -buff_size 4194304 -nostdin \
		-trace_stat -stf "$stf" -fd 3600 >"$out" 2>&1 &
	local sp=$!
	local sticks=0 s
	while kill -0 "$sp" 2>/dev/null; do
		# timeout(1) runs sipp as its child (nice and taskset exec it)
		s=$(pgrep -P "$sp" 2>/dev/null | head -1 || true)
		[ -n "$s" ] && [ -r "/proc/$s/stat" ] && sticks=$(awk '{print $14+$15}' "/proc/$s/stat" 2>/dev/null || echo "$sticks")
		sleep 0.2
	done
	wait "$sp" || true
	t1=$(date +%s.%N)
	local last succ=0 fail=0 retr=0 elapsed
	elapsed=$(echo "$t1 - $t0" | bc)
	if [ -s "$stf" ]; then
		last=$(tail -1 "$stf")
		succ=$(echo "$last" | cut -d';' -f16)
		fail=$(echo "$last" | cut -d';' -f18)
		retr=$(echo "$last" | cut -d';' -f58)
		# sipp's own start and end times (epoch with microseconds): excludes its start-up
		elapsed=$(echo "$last" | awk -F';' '{split($1, a, "\t"); split($3, b, "\t"); printf "%.3f", b[3] - a[3]}')
	fi
	# calls neither successful nor failed (sipp killed) count as failed
	fail=$((calls - succ > fail ? calls - succ : fail))
	echo "$succ $fail $retr $sticks $elapsed"
}

# --- servers -------------------------------------------------------------

start_switchd() {
	local dir=$WORK/switchd-data
	rm -rf "$dir"
	cat >"$WORK/switchd.yaml" <<EOF
data_dir: $dir
sip:
  listen: ["udp://127.0.0.1:$SIP_PORT"]
  qualify_interval: 0s   # sipp does not answer OPTIONS; kamailio.cfg pings nobody either
log: {level: warn}
http: {listen: 127.0.0.1:$HTTP_PORT}
EOF
	"$WORK/mkusers" -db "$dir/switchd.db" -n "$USERS" -csv "$USERS_CSV"
	nice -n "$NICE" taskset -c "$SERVER_CPU" "$SWITCHD_BIN" serve -c "$WORK/switchd.yaml" >"$WORK/switchd.log" 2>&1 &
	SERVER_PID=$!
	PORT=$SIP_PORT
	for _ in $(seq 50); do
		curl -fs "http://127.0.0.1:$HTTP_PORT/metrics" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	log "switchd did not start:"; cat "$WORK/switchd.log" >&2; exit 1
}

start_kamailio() {
	"$WORK/mkusers" -n "$USERS" -csv "$USERS_CSV"
	nice -n "$NICE" taskset -c "$SERVER_CPU" "$KAMAILIO" -f "$REPO/bench/kamailio.cfg" -DD -E \
		-b 4194304 -m 256 -M 16 -A "PORT=$KAM_PORT" -P "$WORK/kamailio.pid" -w "$WORK" >"$WORK/kamailio.log" 2>&1 &
	SERVER_PID=$!
	PORT=$KAM_PORT
	for _ in $(seq 50); do
		ss -uln "sport = :$KAM_PORT" | grep -q ":$KAM_PORT" && sleep 0.5 && return 0
		sleep 0.1
	done
	log "kamailio did not start:"; cat "$WORK/kamailio.log" >&2; exit 1
}

# sample_switchd: goroutines and RSS (MiB) from /metrics.
sample_switchd() {
	curl -fs "http://127.0.0.1:$HTTP_PORT/metrics" 2>/dev/null |
		awk '/^go_goroutines / {g = $2} /^process_resident_memory_bytes / {r = $2} END {printf "%d %.0f\n", g, r / 1048576}'
}

# --- the run -------------------------------------------------------------

CSV=$WORK/runs.csv
echo "server,rate,run,calls,succ,fail,retrans,wall_s,achieved,server_cpu_s,us_per_reg,sipp_cpu_pct,other_cpu_pct,sock_drops,snmp_inerrors,snmp_rcvbuferrors,goroutines,rss_mib,calib_ms,clean" >"$CSV"

measure_server() {
	local name=$1
	log "== $name: starting"
	"start_$name"
	local rcvbuf
	rcvbuf=$(ss -uamn "sport = :$PORT" | grep -o 'rb[0-9]*' | head -1)
	log "$name pid $SERVER_PID, socket $rcvbuf (kernel reports twice the requested size)"
	log "$name: warm-up, registering $USERS users once"
	run_sipp "$PORT" 4000 "$USERS" "${name}_warmup" >/dev/null
	local unclean_steps=0 rate
	for rate in $RATES; do
		local calls=$((rate * DURATION)) clean_runs=0 unclean_runs=0 run
		for run in $(seq "$RUNS"); do
			local before calib
			before=$(wait_quiet "$SERVER_PID")
			calib=$(calib_ms)
			local c0 b0 u0 d0 t0
			c0=$(cpu_ticks "$SERVER_PID"); b0=$(machine_busy); u0=$(udp_snmp); d0=$(sock_drops "$PORT"); t0=$(date +%s.%N)
			if [ "$name" = switchd ]; then
				(sleep "$(echo "$DURATION / 2" | bc -l)"; sample_switchd >"$WORK/mid.txt") &
			else
				(sleep "$(echo "$DURATION / 2" | bc -l)"; echo "- $(($(pss_kib "$SERVER_PID") / 1024))" >"$WORK/mid.txt") &
			fi
			local sampler=$! res
			res=$(run_sipp "$PORT" "$rate" "$calls" "${name}_${rate}_$run")
			wait "$sampler" || true
			local c1 b1 u1 d1 t1 span
			c1=$(cpu_ticks "$SERVER_PID"); b1=$(machine_busy); u1=$(udp_snmp); d1=$(sock_drops "$PORT"); t1=$(date +%s.%N)
			span=$(echo "$t1 - $t0" | bc)
			read -r succ fail retr sticks wall <<<"$res"
			read -r gor rss <"$WORK/mid.txt" || { gor=-; rss=-; }
			local scpu=$(((c1 - c0))) other achieved us clean=no
			achieved=$(echo "$succ / $wall" | bc)
			us=$( [ "$succ" -gt 0 ] && echo "scale=1; $scpu * 1000000 / $HZ / $succ" | bc || echo -)
			# other processes' CPU: machine busy time less the server's and sipp's, in % of one CPU
			other=$(echo "scale=0; (($b1 - $b0) - $scpu - $sticks) * 100 / $HZ / $span" | bc)
			[ "$other" -lt 0 ] && other=0
			local spct
			spct=$(echo "scale=0; $sticks * 100 / $HZ / $wall" | bc)
			read -r ie0 rb0 <<<"$u0"; read -r ie1 rb1 <<<"$u1"
			if [ "$fail" -eq 0 ] && [ "$retr" -eq 0 ] && [ "$((achieved * 100))" -ge "$((rate * 90))" ]; then
				clean=yes; clean_runs=$((clean_runs + 1))
			else
				unclean_runs=$((unclean_runs + 1))
			fi
			echo "$name,$rate,$run,$calls,$succ,$fail,$retr,$wall,$achieved,$(echo "scale=2; $scpu / $HZ" | bc),$us,$spct,$other,$((d1 - d0)),$((ie1 - ie0)),$((rb1 - rb0)),$gor,$rss,$calib,$clean" >>"$CSV"
			log "$name rate $rate run $run (other CPU before ${before}%, calib ${calib}ms): ok $succ fail $fail retrans $retr achieved $achieved/s cpu ${us}us/reg sipp ${spct}% other ${other}% drops sock $((d1 - d0)) snmp $((rb1 - rb0)) goroutines $gor rss ${rss}MiB -> $clean"
			# the majority is decided
			[ "$unclean_runs" -gt $((RUNS / 2)) ] && break
			[ "$clean_runs" -gt $((RUNS / 2)) ] && [ "$run" -ge 3 ] && break
		done
		if [ "$clean_runs" -gt $((RUNS / 2)) ]; then
			unclean_steps=0
		else
			unclean_steps=$((unclean_steps + 1))
			[ "$unclean_steps" -ge "$STOP_AFTER" ] && { log "$name: $STOP_AFTER unclean steps in a row, stopping"; break; }
		fi
	done
	if [ "$name" = switchd ] && [ "$PROFILE" = 1 ]; then
		log "switchd: 10 s CPU profile at $PROFILE_RATE/s"
		local token
		token=$(cat "$WORK/switchd-data/admin.token")
		(sleep 1; curl -fs -H "Authorization: Bearer $token" \
			"http://127.0.0.1:$HTTP_PORT/debug/pprof/profile?seconds=10" -o "$WORK/switchd.cpu.pprof") &
		local profiler=$!
		DURATION=12 run_sipp "$PORT" "$PROFILE_RATE" $((PROFILE_RATE * 12)) switchd_profile >/dev/null
		wait "$profiler" || true
		(cd "$REPO" && go tool pprof -top -nodecount=25 "$SWITCHD_BIN" "$WORK/switchd.cpu.pprof" 2>/dev/null) >"$WORK/switchd.cpu.top" || true
	fi
	cleanup
	sleep 1
}

log "work directory $WORK"
log "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
log "sipp: $($SIPP -v 2>&1 | grep -o 'SIPp v[^ ,-]*' | head -1); kamailio: $($KAMAILIO -v 2>&1 | head -1)"
for s in $SERVERS; do
	measure_server "$s"
done

# --- summary: medians per step -------------------------------------------

{
	echo "| server | attempted/s | achieved/s | failed | retrans | CPU µs/reg | UDP drops (socket / snmp RcvbufErrors) | sipp CPU % | other CPU % | calib ms | goroutines | RSS MiB | clean runs |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for s in $SERVERS; do
		for rate in $RATES; do
			rows=$(awk -F, -v s="$s" -v r="$rate" '$1 == s && $2 == r' "$CSV")
			[ -z "$rows" ] && continue
			col() { echo "$rows" | cut -d, -f"$1" | tr '\n' ' ' | median; }
			n=$(echo "$rows" | wc -l); nc=$(echo "$rows" | grep -c ',yes$' || true)
			echo "| $s | $rate | $(col 9) | $(col 6) | $(col 7) | $(col 11) | $(col 14) / $(col 16) | $(col 12) | $(col 13) | $(col 19) | $(col 17) | $(col 18) | $nc/$n |"
		done
	done
	echo
	for s in $SERVERS; do
		best=$(awk -F, -v s="$s" '$1 == s' "$CSV" | cut -d, -f2 | sort -un | while read -r r; do
			rows=$(awk -F, -v s="$s" -v r="$r" '$1 == s && $2 == r' "$CSV")
			n=$(echo "$rows" | wc -l); nc=$(echo "$rows" | grep -c ',yes$' || true)
			if [ "$((nc * 2))" -gt "$n" ]; then echo "$r"; fi
		done | tail -1)
		echo "$s: highest clean rate ${best:-none}/s"
	done
} >"$WORK/summary.md"
cat "$WORK/summary.md"
if [ -s "$WORK/switchd.cpu.top" ]; then
	echo
	echo "switchd CPU profile at $PROFILE_RATE/s ($WORK/switchd.cpu.pprof):"
	sed -n '1,35p' "$WORK/switchd.cpu.top"
fi
log "done: $CSV"
