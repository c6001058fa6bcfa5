#!/usr/bin/awk -f
# virtio-mem-stats.awk — figures of bench/virtio-mem.sh from what it recorded.
#
#   -v mode=offset   input: lines "HOST-T0 GUEST-T HOST-T1", the host's clock
#                    before and after asking the guest for its clock (memloop
#                    --now). Prints "OFFSET HALF-RTT" from the quickest
#                    answer: guest time = host time + OFFSET, give or take
#                    HALF-RTT (seconds)
#   -v mode=rate -v from=A -v at=B -v to=C
#                    input: memloop's output; A < B < C in guest seconds.
#                    Prints "BEFORE DURING RATIO": the passes per second
#                    memloop made over [A, B] and over [B, C], and DURING /
#                    BEFORE. Work is counted in fractions of a pass between
#                    the stamped pass ends, so a window shorter than a pass
#                    still has a rate
#   -v mode=summary  input: one number a line. Prints "MEDIAN MIN MAX"
# Exits 1 with a message naming what is wrong on input it cannot use.
function fail(msg) {
	print "virtio-mem-stats: " msg > "/dev/stderr"
	failed = 1
	exit 1
}

# Passes done by guest time T: whole passes plus the part of the one under
# way, from the stamps e[0] (start) .. e[n] (end of pass n).
function work(t, lo, hi, mid) {
	if (t < e[0] || t > e[n])
		fail(sprintf("time %.3f is outside memloop's run (%.3f .. %.3f)", t, e[0], e[n]))
	lo = 0
	hi = n
	while (hi - lo > 1) {
		mid = int((lo + hi) / 2)
		if (e[mid] <= t) lo = mid
		else hi = mid
	}
	return lo + (t - e[lo]) / (e[hi] - e[lo])
}

mode == "offset" {
	if (NF != 3 || $3 < $1)
		fail("offset: bad line '" $0 "' (want HOST-T0 GUEST-T HOST-T1)")
	if (!best || $3 - $1 < rtt) {
		best = 1
		rtt = $3 - $1
		offset = $2 - ($1 + $3) / 2
	}
	next
}

mode == "rate" && $1 == "memloop:" && $2 == "start" { e[0] = $3; started = 1; next }
mode == "rate" && $1 == "memloop:" && $2 == "ok" { ok = 1; next }
mode == "rate" && $1 == "memloop:" { next }
mode == "rate" {
	if (!started || NF != 1 || $1 !~ /^[0-9]+(\.[0-9]+)?$/)
		fail("rate: bad memloop line '" $0 "'")
	e[++n] = $1
	next
}

mode == "summary" {
	if (NF != 1 || $1 !~ /^-?[0-9]+(\.[0-9]+)?$/)
		fail("summary: not a number: '" $0 "'")
	v[++count] = $1 + 0
	next
}

END {
	if (failed)
		exit 1
	if (mode == "offset") {
		if (!best)
			fail("offset: no samples")
		printf "%.6f %.6f\n", offset, rtt / 2
	} else if (mode == "rate") {
		if (!ok || n < 1)
			fail("rate: memloop did not finish ('memloop: ok' missing)")
		if (!(from < at && at < to))
			fail(sprintf("rate: windows out of order (%s, %s, %s)", from, at, to))
		w_from = work(from)
		w_at = work(at)
		w_to = work(to)
		before = (w_at - w_from) / (at - from)
		during = (w_to - w_at) / (to - at)
		if (before <= 0)
			fail("rate: no work before the request")
		printf "%.2f %.2f %.2f\n", before, during, during / before
	} else if (mode == "summary") {
		if (!count)
			fail("summary: no values")
		# Insertion sort: a handful of values.
		for (i = 2; i <= count; i++)
			for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
				x = v[j]; v[j] = v[j - 1]; v[j - 1] = x
			}
		median = count % 2 ? v[(count + 1) / 2] : (v[count / 2] + v[count / 2 + 1]) / 2
		print median, v[1], v[count]
	} else
		fail("unknown mode '" mode "' (offset, rate, summary)")
}
