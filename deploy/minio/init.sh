#!/bin/sh
# One-shot MinIO set-up for docker-compose (image minio/mc), idempotent: the Object Lock bucket with
# versioning, the least-privilege policy and the application user. Runs with the root credentials, which
# only this container and the minio container ever see; the application never gets them.
set -eu
root_password="$(cat /run/secrets/minio_root_password)"
app_secret="$(cat /run/secrets/archive_s3_secret_key)"
until mc alias set local http://minio:9000 "$MINIO_ROOT_USER" "$root_password" >/dev/null 2>&1; do
  sleep 2
done
mc mb --ignore-existing --with-lock local/"$ARCHIVE_BUCKET"
mc version enable local/"$ARCHIVE_BUCKET"
mc admin policy create local archive-app /policy/archive-app-policy.json
mc admin user add local "$ARCHIVE_S3_USER" "$app_secret"
mc admin policy attach local archive-app --user "$ARCHIVE_S3_USER" 2>/dev/null || true  # already attached
echo "MinIO ready: bucket $ARCHIVE_BUCKET (Object Lock, versioned), user $ARCHIVE_S3_USER (policy archive-app)"
