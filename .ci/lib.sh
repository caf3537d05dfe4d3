# shellcheck shell=bash
# What every CI job shares: a fresh virtual environment of its own, torch first, and a line for the summary.
# Sourced by .ci/run, .ci/newest, .ci/transformers4 and .ci/oldest (each job also runs on its own).

# The CPU build of torch 2.13.0 lies on this machine's disk (for Python 3.11); any other torch requirement
# makes pip download a CUDA build of several GB.
CI_TORCH="torch==2.13.0"
CI_PYTHON="${CI_PYTHON:-python3}"
# No user site-packages, no PYTHONPATH: only what the job's own venv installed is importable.
export PYTHONNOUSERSITE=1
unset PYTHONPATH

# The directory that holds this run's venvs; made once, removed at the end of the run that made it.
ci_workdir() {
  if [ -z "${CI_WORK:-}" ]; then
    CI_WORK="$(mktemp -d "${TMPDIR:-/tmp}/data2vec-contracts-ci.XXXXXX")"
    export CI_WORK
    # shellcheck disable=SC2064
    trap "rm -rf '$CI_WORK'" EXIT
  fi
}

# ci_venv NAME: a fresh venv (never --system-site-packages) with torch installed first; prints its path.
ci_venv() {
  ci_workdir
  local venv="$CI_WORK/$1"
  rm -rf "$venv"
  "$CI_PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet "$CI_TORCH" >&2
  echo "$venv"
}

# ci_in VENV COMMAND: run a shell command line as in that venv, activated (python, pip and the console scripts
# are the venv's).
ci_in() {
  local venv="$1"
  shift
  PATH="$venv/bin:$PATH" VIRTUAL_ENV="$venv" bash -c "$*"
}

# ci_versions VENV: the versions that matter, one line, for the log and the summary.
ci_versions() {
  "$1/bin/python" - <<'PY'
import importlib.metadata as md
import sys

names = ["torch", "transformers", "jaxtyping", "beartype", "sympy", "numpy", "pytest", "pytest-xdist", "hypothesis",
         "ruff", "mypy"]
found = []
for name in names:
    try:
        found.append(f"{name} {md.version(name)}")
    except md.PackageNotFoundError:
        pass
print(f"python {sys.version.split()[0]}; " + ", ".join(found))
PY
}

# ci_check_torch VENV: fail if anything replaced the torch installed first.
ci_check_torch() {
  local got
  got="$("$1/bin/python" -c 'import torch; print(torch.__version__)')"
  case "$got" in
    2.13.0*) ;;
    *) echo "CI: torch $got was installed instead of the $CI_TORCH CPU build" >&2; return 1 ;;
  esac
}


# ci_step VENV COMMAND: run one step of a job's tests; a failing step is reported and the next steps still run
# (exit with "$ci_failed" at the end).
ci_failed=0
ci_step() {
  local venv="$1"
  shift
  echo "+ $*"
  if ! ci_in "$venv" "$*"; then
    echo "FAILED: $*"
    ci_failed=1
  fi
}
