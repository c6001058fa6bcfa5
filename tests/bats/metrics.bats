#!/usr/bin/env bats
# hintd's metrics in the Prometheus text format: `hintctl metrics`, checked
# by promtool; the MetricsListen= endpoint, scraped by a real Prometheus
# server on loopback and queried over its HTTP API. hintd runs on a private
# bus against libvirt's test driver (bus-daemon.bash).
load bus-daemon
load ../lib/prometheus

setup() {
	bus_daemon_setup
	start_bus
}

teardown() {
	bus_daemon_teardown
}

ctl() { "$HINTCTL" --bus-address="$ADDR" "$@"; }

# An HTTP request to hintd's endpoint: prints "STATUS CONTENT-TYPE" then the body.
http() { # METHOD URL
	python3 - "$@" <<-'END'
	import sys, urllib.request, urllib.error
	req = urllib.request.Request(sys.argv[2], method=sys.argv[1])
	try:
	    r = urllib.request.urlopen(req, timeout=5)
	except urllib.error.HTTPError as e:
	    r = e
	print(r.status, r.headers.get("Content-Type"))
	sys.stdout.write(r.read().decode())
	END
}

with_endpoint() {
	PORT=$(free_port)
	printf '[Host]\nUri=test:///default\nMetricsListen=127.0.0.1:%s\n' "$PORT" > "$CONF"
}

@test "hintctl metrics passes promtool check metrics and shows every VM" {
	start_hintd
	run ctl metrics
	assert_success
	assert_line --regexp '^hintd_vm_max_memory_bytes\{vm="test"\} 8589934592$'
	assert_line 'hintd_vms 1'
	assert_line 'hintd_vm_agent_info{vm="test",state="absent",module="no"} 1'
	assert_line --regexp '^hintd_vm_reclaimed_bytes_total\{vm="test",rung="balloon"\} [0-9]+$'
	# No virtio-mem device anywhere: the families are announced, empty.
	assert_line '# TYPE hintd_vm_virtio_mem_plugged_bytes gauge'
	refute_line --partial 'hintd_vm_virtio_mem_plugged_bytes{'
	run promtool check metrics <<< "$output"
	assert_success
	assert_output ""
}

@test "hintctl metrics: a VM's virtio-mem device, only where there is one, and the last instrument" {
	with_virtio_mem_vm
	start_hintd
	wait_virtio_mem vmem
	run ctl metrics
	assert_success
	assert_line 'hintd_vm_virtio_mem_size_bytes{vm="vmem"} 4294967296'
	assert_line 'hintd_vm_virtio_mem_block_size_bytes{vm="vmem"} 2097152'
	assert_line 'hintd_vm_virtio_mem_requested_bytes{vm="vmem"} 1073741824'
	assert_line 'hintd_vm_virtio_mem_plugged_bytes{vm="vmem"} 0'
	assert_line --regexp '^# HELP hintd_vm_virtio_mem_plugged_bytes .*as libvirt reports it'
	refute_line --regexp '^hintd_vm_virtio_mem_[a-z_]+\{vm="test"\}'
	assert_line --regexp '^hintd_vm_last_instrument_info\{vm="vmem",instrument="(none|balloon|virtio-mem)"\} 1$'
	assert_line --regexp '^hintd_vm_last_instrument_info\{vm="test",instrument="(none|balloon|virtio-mem)"\} 1$'
	run promtool check metrics <<< "$output"
	assert_success
	assert_output ""
}

@test "hintctl metrics --output replaces the file atomically; misuse is refused" {
	start_hintd
	echo stale > "$BATS_TEST_TMPDIR/hintd.prom"
	run ctl metrics --output "$BATS_TEST_TMPDIR/hintd.prom"
	assert_success
	assert_output ""
	grep -q '^hintd_vms 1$' "$BATS_TEST_TMPDIR/hintd.prom"
	run stat -c %a "$BATS_TEST_TMPDIR/hintd.prom"
	assert_output 644
	# No temporary file left beside it.
	run ls "$BATS_TEST_TMPDIR"
	refute_output --partial ".tmp."
	run ctl metrics --output "$BATS_TEST_TMPDIR/no-such-dir/hintd.prom"
	assert_failure 1
	assert_output --partial "cannot write $BATS_TEST_TMPDIR/no-such-dir/hintd.prom"
	run ctl metrics --json
	assert_failure 2
	assert_output --partial "--json does not apply"
	run ctl dump --output x
	assert_failure 2
	assert_output --partial "--output applies to metrics only"
	run ctl metrics --output ""
	assert_failure 2
}

@test "MetricsListen= serves the same text over HTTP; other paths and methods are refused" {
	with_endpoint
	start_hintd
	run http GET "http://127.0.0.1:$PORT/metrics"
	assert_success
	assert_line --index 0 "200 text/plain; version=0.0.4; charset=utf-8"
	assert_line 'hintd_vms 1'
	# The same families as hintctl metrics, in the same order.
	diff <(grep '^# TYPE' <<< "$output") <(ctl metrics | grep '^# TYPE')
	run http GET "http://127.0.0.1:$PORT/other"
	assert_line --index 0 --partial "404"
	run http POST "http://127.0.0.1:$PORT/metrics"
	assert_line --index 0 --partial "405"
	run http HEAD "http://127.0.0.1:$PORT/metrics"
	assert_line --index 0 --partial "200"
	grep -q "Metrics served on http://127.0.0.1:$PORT/metrics" "$BATS_TEST_TMPDIR/hintd.log"
}

@test "a real Prometheus scrapes hintd and returns its series over the query API" {
	with_endpoint
	start_hintd
	start_prometheus "$BATS_TEST_TMPDIR/prom" "127.0.0.1:$PORT"
	PIDS+=("$PROM_PID")
	for _ in $(seq 60); do
		run prom_query 'hintd_vm_max_memory_bytes{vm="test"}'
		[[ $output == *8589934592* ]] && break
		sleep 0.5
	done
	assert_output --partial '"vm": "test"'
	assert_output --regexp ' 8589934592$'
	run prom_query 'up{job="hintd"}'
	assert_output --regexp ' 1$'
	run prom_query 'sum(hintd_vm_reclaimed_bytes_total{vm="test"})'
	assert_output --regexp ' [0-9]+$'
}

@test "a bad MetricsListen= is refused naming it; a port in use leaves hintd running without it" {
	printf '[Host]\nUri=test:///default\nMetricsListen=localhost:9848\n' > "$CONF"
	run "$HINTD" --config "$CONF" --config-dir "$BATS_TEST_TMPDIR/none" --check-config
	assert_failure
	assert_output --partial "MetricsListen=localhost:9848: must be ADDRESS:PORT with a literal address"
	# The port is held by a listener of this test.
	PORT=$(free_port)
	python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(60)' "$PORT" &
	PIDS+=("$!")
	sleep 0.5
	printf '[Host]\nUri=test:///default\nMetricsListen=127.0.0.1:%s\n' "$PORT" > "$CONF"
	start_hintd
	grep -q "MetricsListen=127.0.0.1:$PORT: cannot listen there: Address already in use" "$BATS_TEST_TMPDIR/hintd.log"
	run ctl status
	assert_success
}

@test "a reload moves the endpoint, and an empty MetricsListen= closes it" {
	with_endpoint
	start_hintd
	http GET "http://127.0.0.1:$PORT/metrics" | grep -q '^hintd_vms 1$'
	old=$PORT
	with_endpoint
	run ctl reload
	assert_success
	http GET "http://127.0.0.1:$PORT/metrics" | grep -q '^hintd_vms 1$'
	run http GET "http://127.0.0.1:$old/metrics"
	assert_failure
	printf '[Host]\nUri=test:///default\n' > "$CONF"
	run ctl reload
	assert_success
	run http GET "http://127.0.0.1:$PORT/metrics"
	assert_failure
	grep -q "Metrics no longer served on 127.0.0.1:$PORT" "$BATS_TEST_TMPDIR/hintd.log"
}

@test "the Grafana dashboard is valid JSON and uses only metrics hintd exports" {
	start_hintd
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$TOP/contrib/grafana-hintd.json"
	exported=$(ctl metrics | awk '$1 == "#" && $2 == "TYPE" { print $3 }')
	used=$(grep -o 'hintd_[a-z0-9_]*' "$TOP/contrib/grafana-hintd.json" | sort -u)
	[[ -n $used ]]
	for m in $used; do
		grep -qx "$m" <<< "$exported" || fail "the dashboard uses $m, which hintd does not export"
	done
}
