#!/usr/bin/env bash
# Every test, in order: the C unit tests, then the Node suites (kernel
# integration, the qemu guest, golden transcripts, hostile input, SDK client). Called by `make test` after
# the binary, the unit test binaries and the test BPF objects are built.
#
# It mounts nothing itself (the tests that need bpffs/tracefs do that), shows
# each suite's own output, and ends with one line:
#     N passed, N failed[, N skipped]
# summed over every suite. Exit status is non-zero when anything failed, when
# a suite crashed without a summary, or when no test ran at all.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2

passed=0 failed=0 skipped=0
LOG=$(mktemp -t ebpf-mcp-tests.XXXXXX)
trap 'rm -f "$LOG"' EXIT

banner() { printf '\n==== %s ====\n' "$*"; }

# ---- 1. unit tests ------------------------------------------------------------
shopt -s nullglob
units=(build/test/test_*)
for bin in "${units[@]}"; do
	[[ -x $bin ]] || continue
	banner "unit: ${bin##*/}"
	"$bin" 2>&1 | tee "$LOG"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^unit [^:]+: [0-9]+ passed, [0-9]+ failed$' "$LOG" | tail -n 1)
	if [[ -z $line ]]; then
		echo "run.sh: ${bin##*/} exited with status $rc and no summary line"
		failed=$((failed + 1))
		continue
	fi
	p=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\1/' <<<"$line")
	f=$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\2/' <<<"$line")
	passed=$((passed + p))
	failed=$((failed + f))
	if ((rc != 0 && f == 0)); then
		echo "run.sh: ${bin##*/} exited with status $rc"
		failed=$((failed + 1))
	fi
done

# ---- 2. the SDK and ajv for the Node suites (pinned in tests/package.json) -----
# Again whenever the lock file is newer than what npm last installed.
if [[ ! -f tests/node_modules/.package-lock.json || tests/package-lock.json -nt tests/node_modules/.package-lock.json ]]; then
	banner "npm ci (tests/)"
	if ! (cd tests && npm ci --no-audit --no-fund); then
		echo "run.sh: npm ci failed; the SDK client suite cannot run"
		failed=$((failed + 1))
	fi
fi

# ---- 3. Node suites ---------------------------------------------------------------
# Files inside one suite run one at a time: integration tests load and list
# kernel objects, and parallel files would see each other's.
count() { grep -E "^# $1 [0-9]+$" "$LOG" | tail -n 1 | awk '{print $3}'; }
for suite in integration guest transcripts hostile client; do
	files=(tests/"$suite"/*.test.mjs)
	((${#files[@]})) || continue
	banner "node: tests/$suite (${#files[@]} files)"
	node --test --test-reporter=tap --test-concurrency=1 "${files[@]}" 2>&1 | tee "$LOG"
	rc=${PIPESTATUS[0]}
	p=$(count pass) f=$(count fail) s=$(count skipped) c=$(count cancelled) t=$(count todo)
	if [[ -z $p || -z $f ]]; then
		echo "run.sh: tests/$suite ended (status $rc) without a TAP summary"
		failed=$((failed + 1))
		continue
	fi
	passed=$((passed + p))
	failed=$((failed + f + ${c:-0}))
	skipped=$((skipped + ${s:-0} + ${t:-0}))
	if ((rc != 0 && f == 0 && ${c:-0} == 0)); then
		echo "run.sh: tests/$suite exited with status $rc"
		failed=$((failed + 1))
	fi
done

echo
summary="$passed passed, $failed failed"
((skipped)) && summary+=", $skipped skipped"
echo "$summary"
((failed == 0 && passed > 0))
