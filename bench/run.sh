#!/usr/bin/env bash
# Side-by-side benchmarks (`make bench`; not part of `make test`): start-up of
# bin/ebpf-mcp against a minimal Node server on the official SDK, and
# map_dump of a 1M-entry map against bpftool, and get_btf_types cold/warm
# when the build has it. See bench/bench.mjs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ -x bin/ebpf-mcp ]] || { echo "bench: build bin/ebpf-mcp first (make)" >&2; exit 1; }
if [[ ! -f tests/node_modules/@modelcontextprotocol/sdk/package.json ]]; then
	(cd tests && npm ci --no-audit --no-fund)
fi
exec node bench/bench.mjs "$@"
