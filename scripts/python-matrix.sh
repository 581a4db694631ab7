#!/usr/bin/env bash
# Runs the workspace's tests on several CPython versions from pyenv, one target directory each
# (pyo3 is rebuilt per interpreter). Nothing is installed into those interpreters: each build
# makes the managed environments [package.metadata.python4r] declares, with the set python4r.lock
# holds for that Python version (packages that need a newer Python carry markers, and their tests
# skip with a printed reason).
#
#   scripts/python-matrix.sh                 # every 3.9 to 3.13 that pyenv has
#   scripts/python-matrix.sh 3.9 3.13        # only these (a prefix of a pyenv version)
#   MATRIX_CARGO_ARGS="--release" scripts/python-matrix.sh 3.13   # extra `cargo test` args
#   MATRIX_CLEAN=1 scripts/python-matrix.sh  # remove each version's target directory after it
#
# Prints one summary line per version (passed/failed and minutes) and exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v pyenv >/dev/null; then
  echo "python-matrix: pyenv is not installed" >&2
  exit 2
fi

wanted=("$@")
if [ ${#wanted[@]} -eq 0 ]; then
  wanted=(3.9 3.10 3.11 3.12 3.13)
fi

summary=()
failed=0
for want in "${wanted[@]}"; do
  # The newest installed pyenv version whose number starts with `want.` (or equals it).
  version=$(pyenv versions --bare --skip-aliases 2>/dev/null \
    | grep -E "^${want//./\\.}(\.|$)" | grep -Ev '[a-z]' | sort -V | tail -1)
  if [ -z "$version" ]; then
    echo "python-matrix: Python $want is not installed in pyenv (pyenv install $want)" >&2
    summary+=("$want: MISSING")
    failed=1
    continue
  fi
  python="$(pyenv prefix "$version")/bin/python"
  echo "== Python $version ($python)"
  start=$(date +%s)
  short=$(echo "$version" | cut -d. -f1-2)
  # Doctest binaries of crates without python4r-build's rpath (python4r-macros) find this
  # interpreter's libpython here rather than a system copy of another version.
  libdir=$("$python" -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR") or "")')
  # shellcheck disable=SC2086
  if env PYO3_PYTHON="$python" PYENV_VERSION="$version" CARGO_TARGET_DIR="target/py$short" \
      LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
      cargo test --workspace --no-fail-fast ${MATRIX_CARGO_ARGS:-}; then
    result=passed
  else
    result=FAILED
    failed=1
  fi
  end=$(date +%s)
  if [ "${MATRIX_CLEAN:-0}" = 1 ]; then
    rm -rf "target/py$short"
  fi
  summary+=("$version: $result in $(( (end - start) / 60 ))m$(( (end - start) % 60 ))s")
done

echo "== python-matrix summary"
printf '%s\n' "${summary[@]}"
exit $failed
