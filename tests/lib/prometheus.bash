# A real Prometheus server on loopback for the metrics tests: it scrapes
# hintd's MetricsListen= endpoint every second, and tests ask it for series
# over its HTTP API. The caller stops it by PROM_PID.

# A TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts Prometheus in DIR, scraping TARGET (host:port) every second; sets
# PROM_PID and PROM_URL, and waits until it is ready.
start_prometheus() { # DIR TARGET
	local dir=$1 port
	port=$(free_port)
	mkdir -p "$dir"
	cat > "$dir/prometheus.yml" <<-END
	global:
	  scrape_interval: 1s
	  scrape_timeout: 1s
	  evaluation_interval: 1s
	scrape_configs:
	  - job_name: hintd
	    static_configs:
	      - targets: ['$2']
	END
	prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
		--web.listen-address="127.0.0.1:$port" --log.level=warn > "$dir/prometheus.log" 2>&1 &
	PROM_PID=$!
	PROM_URL=http://127.0.0.1:$port
	for _ in $(seq 100); do
		prom_get /-/ready > /dev/null 2>&1 && return 0
		kill -0 "$PROM_PID" 2>/dev/null || break
		sleep 0.2
	done
	echo "Prometheus did not start: $(tail -5 "$dir/prometheus.log")" >&2
	return 1
}

prom_get() { # PATH
	python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
		"$PROM_URL$1"
}

# The value of each series an instant query returns, one per line, as
# "LABELS VALUE" (labels as JSON); nothing when it returns none.
prom_query() { # EXPR
	python3 - "$PROM_URL" "$1" <<-'END'
	import json, sys, urllib.parse, urllib.request
	url = sys.argv[1] + "/api/v1/query?" + urllib.parse.urlencode({"query": sys.argv[2]})
	reply = json.load(urllib.request.urlopen(url, timeout=5))
	if reply.get("status") != "success":
	    sys.exit("query failed: %s" % reply)
	for r in reply["data"]["result"]:
	    print(json.dumps(r["metric"], sort_keys=True), r["value"][1])
	END
}
