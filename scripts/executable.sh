#!/usr/bin/env bash
# Builds one test or bench target and prints the path of its executable (for scripts that run it
# under valgrind or with their own arguments). Prints nothing when the build fails.
#
#   scripts/executable.sh bench calls                    # cargo bench --no-run --bench calls
#   scripts/executable.sh test reliability_lifetimes     # cargo test --no-run --test ...
set -euo pipefail
cd "$(dirname "$0")/.."
kind=$1 name=$2
cargo "$kind" --locked --no-run "--$kind" "$name" --message-format=json 2>/dev/null |
  python3 -c 'import json, sys
name = sys.argv[1]
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == name:
        print(m["executable"])' "$name"
