#!/usr/bin/awk -f
# workload-stats.awk — figures of bench/workload.sh from its host samples.
#
# Input: one line per guest per sampling round, "EPOCH-SECONDS GUEST
# BACKED-BYTES BALLOON-BYTES", the lines of a round sharing their EPOCH.
#   -v mode=summary  one line "FOOTPRINT PEAK MOVES MOVED": FOOTPRINT the
#                    guests' backed memory integrated over time (GiB·min,
#                    each round counted until the next), PEAK the highest
#                    sum of backed memory in a round (MiB), MOVES the balloon
#                    movements (a run of rounds in which a guest's balloon
#                    changed by >= 1 MiB is one), MOVED the MiB they moved
#   -v mode=plot     one line per round "SECONDS-SINCE-FIRST TOTAL-MIB"
# A round's EPOCH is its key as written: as a number it would be converted
# back to a string with 6 digits, which merges rounds.
{
	t = $1
	if (!(t in total)) {
		times[++n] = t
		total[t] = 0
	}
	total[t] += $3
	if (($2) in balloon) {
		d = $4 - balloon[$2]
		if (d < 0) d = -d
		if (d >= 1048576) {
			if (!moving[$2]) moves++
			moving[$2] = 1
			moved += d
		} else
			moving[$2] = 0
	}
	balloon[$2] = $4
}
END {
	if (mode == "plot") {
		for (i = 1; i <= n; i++)
			printf "%.1f %.0f\n", times[i] - times[1], total[times[i]] / 1048576
		exit
	}
	integral = 0
	peak = 0
	for (i = 1; i <= n; i++) {
		if (i < n) integral += total[times[i]] * (times[i + 1] - times[i])
		if (total[times[i]] > peak) peak = total[times[i]]
	}
	printf "%.2f %.0f %d %.0f\n", integral / 1073741824 / 60, peak / 1048576, moves, moved / 1048576
}
