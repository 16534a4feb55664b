#!/usr/bin/env bash
# The main job on a sample batch: set up, start the local services and a worker, generate a sample batch of
# Vietnamese scans and born-digital PDFs, ingest it, show the statistics and search it. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export ARCHIVE_HOME="${ARCHIVE_HOME:-$PWD/.archive-home}"
export OMP_THREAD_LIMIT=1
archive() { .venv/bin/archive "$@"; }

[ -f "$ARCHIVE_HOME/pki/agency.p12" ] || archive cert init-test
archive services up   # Redis, the S3 server, the TEST PKI responders and a local Celery worker
trap 'archive services down >/dev/null || true' EXIT

# Workers read batches only from the intake roots (intake.roots; default $ARCHIVE_HOME/intake).
batch="$ARCHIVE_HOME/intake/sample-batch"
[ -d "$batch" ] || archive sample "$batch"
archive ingest "$batch"
archive stats
echo
echo '$ archive stats --by unit --csv'
archive stats --by unit --csv
echo
echo '$ archive retention due   # what has passed its retention (the records office proposes it for disposal)'
archive retention due
echo
echo '$ archive user add reader --role staff --clearance public   # then the same search as that user'
archive user list --json | grep -q '"name": "reader"' || archive user add reader --role staff --clearance public
ARCHIVE_USER=reader archive stats
echo
echo '$ archive search "van ban dien tu"'
archive search "van ban dien tu"
echo
echo '$ archive search "07/CT-BTTTT"'
archive search "07/CT-BTTTT"
echo
archive audit verify
echo
# A sign-in for the service on this data: a fresh random password each run, shown once, never stored in clear.
archive user list --json | grep -q '"name": "demo"' || archive user add demo --role admin --clearance tuyet-mat >/dev/null
password=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(12))')
printf '%s\n' "$password" | archive user passwd demo --password-stdin >/dev/null
echo "The service on this data:"
echo "  ARCHIVE_HOME=$ARCHIVE_HOME .venv/bin/archive services up"
echo "  ARCHIVE_HOME=$ARCHIVE_HOME .venv/bin/archive serve   # web pages and API on 127.0.0.1:8000"
echo "  open http://127.0.0.1:8000/login and sign in as 'demo' with password '$password'"
echo "  (API: OpenAPI at /docs after sign-in; POST /api/v1/session with the same name and password), or a token:"
echo "  TOKEN=\$(ARCHIVE_HOME=$ARCHIVE_HOME .venv/bin/archive user token demo); curl -H \"Authorization: Bearer \$TOKEN\" 'http://127.0.0.1:8000/api/v1/search?q=van+ban+dien+tu'"

