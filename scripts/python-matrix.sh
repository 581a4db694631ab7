#!/usr/bin/env bash
# Runs the workspace's tests on several CPython versions from pyenv, one target directory each
# (pyo3 is rebuilt per interpreter). Installs into each interpreter the numpy that supports it
# (numpy 1.26 for 3.9, numpy 2.x for 3.10+), ml_dtypes and, from 3.10, dask[distributed], so the
# optional tests run.
#
#   scripts/python-matrix.sh                 # every 3.9 to 3.13 that pyenv has
#   scripts/python-matrix.sh 3.9 3.13        # only these (a prefix of a pyenv version)
#   MATRIX_CARGO_ARGS="--release" scripts/python-matrix.sh 3.13   # extra `cargo test` args
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
  minor=$("$python" -c 'import sys; print(sys.version_info[1])')
  if [ "$minor" -lt 10 ]; then
    numpy_spec='numpy>=1.26,<2'
  else
    numpy_spec='numpy>=2,<3'
  fi
  # The same environment marker as requirements.txt: dask needs 3.10+, its tests skip below.
  dask_spec='dask[distributed]; python_version >= "3.10"'
  echo "== Python $version ($python): installing $numpy_spec, ml_dtypes, $dask_spec"
  start=$(date +%s)
  if ! "$python" -m pip install --quiet --disable-pip-version-check "$numpy_spec" 'ml_dtypes>=0.3' \
      "$dask_spec"; then
    summary+=("$version: pip install failed")
    failed=1
    continue
  fi
  "$python" -c 'import numpy, ml_dtypes; print("numpy", numpy.__version__, "ml_dtypes", ml_dtypes.__version__)'
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
  summary+=("$version: $result in $(( (end - start) / 60 ))m$(( (end - start) % 60 ))s")
done

echo "== python-matrix summary"
printf '%s\n' "${summary[@]}"
exit $failed
