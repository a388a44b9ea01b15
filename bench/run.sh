#!/usr/bin/env bash
# Side-by-side benchmarks (`make bench`; not part of `make test`): start-up of
# bin/ebpf-mcp against a minimal Node server on the official SDK, and
# map_dump of a 1M-entry map against bpftool, get_btf_types cold/warm when
# the build has it, and ring buffer records as JSON (stream_events) against
# Debian's bpftrace, installed here if missing, and ping latency while other
# sessions churn against the release before the daemon (built here once),
# and Streamable HTTP requests/s, latency and idle-session RSS against a
# server on the SDK's StreamableHTTPServerTransport (bench/http.mjs).
# Arguments pick sections (startup map_dump btf ring ping http; default all).
# See bench/bench.mjs. The soak (10^6 mixed requests over stdio and the
# socket, RSS and fds printed as it goes) is separate: node bench/soak.mjs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ -x bin/ebpf-mcp ]] || { echo "bench: build bin/ebpf-mcp first (make)" >&2; exit 1; }
if [[ ! -f tests/node_modules/@modelcontextprotocol/sdk/package.json ]]; then
	(cd tests && npm ci --no-audit --no-fund)
fi
if [[ $# -eq 0 || " $* " == *" ring "* ]] && ! command -v bpftrace >/dev/null; then
	echo "bench: installing Debian's bpftrace for the ring buffer comparison" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q bpftrace >&2 ||
		echo "bench: bpftrace could not be installed; the ring buffer rows will have ebpf-mcp only" >&2
fi
# The ping section's reference: the release before the daemon (one session
# on stdio, every kernel call on its loop), built once from its commit.
baseline=build/bench/baseline
if [[ $# -eq 0 || " $* " == *" ping "* ]] && [[ ! -x $baseline/bin/ebpf-mcp ]]; then
	echo "bench: building the release before the daemon ($(cut -c1-12 bench/baseline.commit)) for the ping reference" >&2
	rm -rf "$baseline" && mkdir -p "$baseline"
	git archive "$(cat bench/baseline.commit)" | tar -x -C "$baseline"
	make -C "$baseline" bin/ebpf-mcp >&2
fi
exec node bench/bench.mjs "$@"
