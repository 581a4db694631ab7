#!/usr/bin/env bash
# Runs the lifetime tests (tests/reliability_lifetimes.rs) under valgrind memcheck with Python's
# own allocator switched off (PYTHONMALLOC=malloc), so that every use of freed memory, on the Rust
# or the Python side, is an invalid read or write. Fails (exit 99) on any memcheck error.
#
# Definedness errors are off (--undef-value-errors=no): CPython 3.11 computes small ints as
# `size * ob_digit[0]` with an uninitialised digit when size is 0 (int.from_bytes, run by every
# import), and memcheck then reports every later use of the (correct) result, thousands of
# false positives deep inside the interpreter. Addressability (use after free, out of bounds)
# is what these tests check, and stays on.
#
#   scripts/valgrind.sh                # all lifetime tests
#   scripts/valgrind.sh python_keeps   # a filter, as for `cargo test`
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
  echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2
  exit 2
fi

binary=$(scripts/executable.sh test reliability_lifetimes)
if [ -z "$binary" ]; then
  echo "valgrind.sh: could not build tests/reliability_lifetimes.rs" >&2
  exit 2
fi

echo "== valgrind memcheck: $binary"
start=$(date +%s)
PYTHONMALLOC=malloc valgrind \
  --tool=memcheck \
  --error-exitcode=99 \
  --leak-check=no \
  --undef-value-errors=no \
  --suppressions=scripts/valgrind-python.supp \
  --gen-suppressions=all \
  "$binary" --test-threads=1 "$@"
echo "== valgrind memcheck passed in $(( $(date +%s) - start ))s"
