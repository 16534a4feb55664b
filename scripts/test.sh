#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite, slow end-to-end tests included. Tests start their own
# Redis, S3 server, Celery worker and test PKI on free loopback ports under temporary homes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_THREAD_LIMIT=1
.venv/bin/ruff check .
.venv/bin/python -m mypy  # the packages pyproject.toml's [tool.mypy] lists
set +e
# Two processes (the machines have 2 cores; much of the suite waits on services and subprocesses), each taking
# whole test files, so a module's fixtures (homes, servers, ingested batches) are built once; files in collection
# order (tests/conftest.py puts the slow end-to-end files first), not xdist's largest-file-first.
# The 25 slowest steps are listed at the end: the suite must stay well under 30 minutes on 2 cores.
.venv/bin/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile --no-loadscope-reorder --durations=25 "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then echo "test.sh: pytest collected no tests" >&2; exit 1; fi
exit "$status"
