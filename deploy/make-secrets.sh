#!/bin/sh
# Generate the random docker secrets that docker-compose.yml reads from ./secrets/ (as root, on the docker host):
#   bash deploy/make-secrets.sh            # or: deploy/make-secrets.sh /path/to/secrets
# Each file: 64 random hex characters (no newline, nothing to quote), mode 0400, owned by the application's uid
# 10001 (compose mounts a secret file with its host owner and mode), except minio_root_password (root's: only
# MinIO and minio-init, running as root, read it). An existing file is never overwritten: changing a password
# after the first start also needs the change in the service that holds it (see deploy/README.md).
# The agency's signing material is not generated here: it comes from the agency's CA (listed at the end).
set -eu
umask 077
cd "$(dirname "$0")/.."
dir="${1:-secrets}"
app_uid="${ARCHIVE_UID:-10001}"
do_chown="${ARCHIVE_SECRETS_CHOWN:-yes}"  # "no" only for a dry run as a normal user (the offline test)

random_hex() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

new_secret() {  # name owner value
  if [ -e "$dir/$1" ]; then
    echo "kept     $dir/$1"
    return
  fi
  printf '%s' "$3" > "$dir/$1"
  chmod 0400 "$dir/$1"
  [ "$do_chown" = no ] || chown "$2:$2" "$dir/$1"
  echo "created  $dir/$1"
}

mkdir -p "$dir"
chmod 0700 "$dir"
new_secret minio_root_password 0 "$(random_hex)"
new_secret archive_s3_secret_key "$app_uid" "$(random_hex)"
new_secret archive_api_s3_secret_key "$app_uid" "$(random_hex)"
new_secret redis_password "$app_uid" "$(random_hex)"
new_secret message_key "$app_uid" "$(random_hex)"
new_secret postgres_password "$app_uid" "$(random_hex)"
new_secret audit_seal_key "$app_uid" "$(random_hex)"
new_secret flower_basic_auth "$app_uid" "admin:$(random_hex)"

missing=""
for name in agency.p12 agency_p12_password root-ca.pem agency-seal.png; do
  [ -e "$dir/$name" ] || missing="$missing $name"
done
if [ -n "$missing" ]; then
  echo "still to provide (from the agency's CA, mode 0400, owner $app_uid):$missing"
fi
