"""The production compose file (MinIO cannot run on this machine, so this checks the file itself): the
application never gets the MinIO root account, its policy cannot unlock or destroy, every secret is a docker
secret file, and the application's environment is a valid configuration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from pipeline.core.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("worker-ocr", "worker-index", "beat")


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_the_application_never_gets_the_minio_root_account() -> None:
    compose = _compose()
    for name in APP_SERVICES:
        service = compose["services"][name]
        text = json.dumps(service)
        assert "MINIO_ROOT" not in text and "minio_root_password" not in service["secrets"], name
        assert service["environment"]["ARCHIVE_S3__ACCESS_KEY"] == "archive-app"
        assert service["depends_on"]["minio-init"] == {"condition": "service_completed_successfully"}
    init = (ROOT / "deploy/minio/init.sh").read_text(encoding="utf-8")
    assert "--with-lock" in init and "mc version enable" in init
    assert "mc admin policy attach local archive-app --user" in init


def test_the_application_policy_cannot_unlock_or_destroy() -> None:
    policy = json.loads((ROOT / "deploy/minio/archive-app-policy.json").read_text(encoding="utf-8"))
    allowed = {a for s in policy["Statement"] if s["Effect"] == "Allow" for a in s["Action"]}
    denied = {a for s in policy["Statement"] if s["Effect"] == "Deny" for a in s["Action"]}
    assert {"s3:BypassGovernanceRetention", "s3:DeleteObjectVersion", "s3:PutBucketObjectLockConfiguration",
            "s3:DeleteBucket", "s3:PutBucketPolicy"} <= denied
    assert not allowed & denied and not any(a.endswith("*") for a in allowed)
    assert {"s3:PutObject", "s3:PutObjectRetention", "s3:GetObjectVersion"} <= allowed
    resources = {r for s in policy["Statement"] if s["Effect"] == "Allow" for r in s["Resource"]}
    assert resources == {"arn:aws:s3:::archive", "arn:aws:s3:::archive/*"}  # its bucket only


def test_no_secret_value_in_the_file_and_every_secret_is_a_docker_secret() -> None:
    compose = _compose()
    env = compose["x-archive-env"]
    secret_vars = [k for k in env if any(w in k for w in ("PASSWORD", "SECRET", "KEY", "PIN"))]
    assert secret_vars and all(k.endswith("_FILE") or k == "ARCHIVE_S3__ACCESS_KEY" for k in secret_vars)
    userinfo = env["ARCHIVE_CATALOG__URL"].split("//", 1)[1].split("@", 1)[0]
    assert userinfo == "archive"  # the password comes from ARCHIVE_CATALOG__PASSWORD_FILE
    redis = compose["services"]["redis"]
    assert "requirepass" in redis["command"][0] and "redis_password" in redis["secrets"]
    assert compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"].startswith("/run/secrets/")


def test_the_application_environment_is_a_valid_configuration(tmp_path: Path) -> None:
    """Load the workers' environment as the service would, with each /run/secrets file stood in for."""
    environ: dict[str, str] = {}
    for key, value in _compose()["x-archive-env"].items():
        value = str(value)
        if value.startswith("/run/secrets/"):
            stand_in = tmp_path / value.rsplit("/", 1)[1]
            stand_in.write_text(f"value-of-{stand_in.name}\n", encoding="utf-8")
            value = str(stand_in)
        environ[key] = value.replace("${AGENCY_TSA_URL:?set AGENCY_TSA_URL}", "http://tsa.example")
    environ["ARCHIVE_HOME"] = str(tmp_path / "home")
    settings = load_settings(environ=environ)
    assert settings.redis.password == "value-of-redis_password"
    assert settings.redis.message_key == "value-of-message_key"
    assert settings.s3.secret_key == "value-of-archive_s3_secret_key"
    assert settings.sign.pkcs12_password == "value-of-agency_p12_password"
    assert settings.audit.seal_key == "value-of-audit_seal_key"  # the seals' MAC key: not an S3 credential
    assert settings.catalog_url == "postgresql://archive:value-of-postgres_password@postgres:5432/archive"
    assert settings.intake_roots == [Path("/batches")]
