#!/usr/bin/env python3
"""UDP sink for bench/acd.sh: the callers' and agents' SDP name it, so the
RTP switchd sends (music on hold to waiting callers) lands on a socket that
reads it and drops it instead of an unbound port (ICMP unreachable) or an
unread one (kernel drops, counted in /proc/net/snmp by everyone's benchmarks).

    sink.py IP PORT SECONDS OUTFILE

Runs at most SECONDS, or until SIGTERM; writes "packets bytes" to OUTFILE.
"""
import signal
import socket
import sys
import time

ip, port, limit, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind((ip, port))
s.settimeout(0.5)
stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)
packets = nbytes = 0
end = time.monotonic() + limit
buf = bytearray(2048)
while not stop and time.monotonic() < end:
    try:
        n = s.recv_into(buf)
    except socket.timeout:
        continue
    except InterruptedError:
        continue
    packets += 1
    nbytes += n
with open(out, "w") as f:
    f.write(f"{packets} {nbytes}\n")
