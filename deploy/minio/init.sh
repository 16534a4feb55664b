#!/bin/sh
# One-shot MinIO set-up for docker-compose (service `minio-init`, image minio/mc), idempotent:
#   1. the bucket, created with Object Lock (which turns versioning on for good), checked to have it;
#   2. two least-privilege users, each with exactly one policy on that bucket only:
#      - archive-app (OCR workers, index writer, beat): read, write under retention, lengthen locks, legal
#        holds; never a delete of any kind (archive-app-policy.json);
#      - archive-api (the API and the records office's CLI): the same plus deleting object versions, which the
#        storage allows only once their retention has ended and no legal hold remains: disposal
#        (archive-api-policy.json).
#      Neither can bypass governance retention, change the bucket's lock, versioning, lifecycle, replication or
#      policy, create or delete buckets.
# It runs with the MinIO root credentials, which only this container and the minio container ever see.
set -eu
secrets="${SECRETS_DIR:-/run/secrets}"  # overridable for the offline test only
policies="${POLICY_DIR:-/policy}"

fail() { echo "minio-init: $*" >&2; exit 1; }
compact() { tr -d ' \t\r\n'; }

root_password="$(cat "$secrets/minio_root_password")"
app_secret="$(cat "$secrets/archive_s3_secret_key")"
api_secret="$(cat "$secrets/archive_api_s3_secret_key")"
[ "${#app_secret}" -ge 16 ] && [ "${#api_secret}" -ge 16 ] || fail "the S3 secret keys must be 16 characters or more"
[ "$app_secret" != "$api_secret" ] || fail "archive_s3_secret_key and archive_api_s3_secret_key must differ"

tries=0
until mc alias set local http://minio:9000 "$MINIO_ROOT_USER" "$root_password" >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || fail "cannot sign in to MinIO as $MINIO_ROOT_USER (wrong minio_root_password?)"
  sleep 2
done

# The policies name their bucket: refuse to grant anything on another one.
for policy in archive-app archive-api; do
  case "$(compact < "$policies/$policy-policy.json")" in
    *"\"arn:aws:s3:::$ARCHIVE_BUCKET/*\""*) ;;
    *) fail "$policies/$policy-policy.json does not name bucket $ARCHIVE_BUCKET" ;;
  esac
done

mc mb --ignore-existing --with-lock local/"$ARCHIVE_BUCKET"
mc version enable local/"$ARCHIVE_BUCKET"
mc anonymous set none local/"$ARCHIVE_BUCKET" >/dev/null
status="$(mc stat --json local/"$ARCHIVE_BUCKET" | compact)"
case "$status" in
  *'"ObjectLock":{"enabled":"Enabled"'*) ;;
  *) fail "bucket $ARCHIVE_BUCKET exists without Object Lock: it can only be chosen at creation; create a new bucket and copy the objects into it" ;;
esac

mc admin policy create local archive-app "$policies/archive-app-policy.json"
mc admin policy create local archive-api "$policies/archive-api-policy.json"
mc admin user add local "$ARCHIVE_S3_USER" "$app_secret" >/dev/null
mc admin user add local "$ARCHIVE_API_S3_USER" "$api_secret" >/dev/null
mc admin policy attach local archive-app --user "$ARCHIVE_S3_USER" >/dev/null 2>&1 || true  # already attached
mc admin policy attach local archive-api --user "$ARCHIVE_API_S3_USER" >/dev/null 2>&1 || true

# Each user must hold its one policy and no other (a policy attached by hand would widen it).
only_policy() {
  case "$(mc admin user info local "$1" --json | compact)" in
    *"\"policyName\":\"$2\""[,}]*) ;;
    *) fail "user $1 must have exactly the policy $2 (see: mc admin user info local $1)" ;;
  esac
}
only_policy "$ARCHIVE_S3_USER" archive-app
only_policy "$ARCHIVE_API_S3_USER" archive-api

echo "minio-init: bucket $ARCHIVE_BUCKET (Object Lock, versioned, private); users $ARCHIVE_S3_USER (archive-app)," \
  "$ARCHIVE_API_S3_USER (archive-api)"
