"""The production deployment, checked offline (no Docker engine runs on the development machines): the compose
file against the Compose Specification's JSON schema (and `docker compose config` where a client is installed),
its security properties read from the YAML, the MinIO policies against the S3 calls the code makes, the MinIO
init script against a stand-in `mc`, the Dockerfile, .dockerignore, the secrets script and the health checks."""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import os
import re
import shutil
import stat
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from pipeline.core.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV = {"AGENCY_TSA_URL": "http://tsa.example.vn/tsa"}
APP_SERVICES = ("api", "worker-ocr", "worker-index", "beat")
DATA_STORES = ("minio", "redis", "postgres")
ONE_SHOT = ("minio-init",)
APP_UID = "10001"
BUCKET = "archive"


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def _interpolate(node: Any, env: dict[str, str]) -> Any:
    """Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}, and $$ for a literal $."""
    if isinstance(node, dict):
        return {k: _interpolate(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, env) for v in node]
    if not isinstance(node, str):
        return node

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, op, arg = m.group(1), m.group(2), m.group(3) or ""
        if env.get(name):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return arg

    text = re.sub(r"\$\$|\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, node)
    return int(text) if text.isdigit() and "${" in node else text


def _services() -> dict[str, dict[str, Any]]:
    return _compose()["services"]


def _policy(name: str) -> tuple[set[str], set[str], set[str]]:
    """(allowed actions, denied actions, allowed resources) of deploy/minio/<name>-policy.json."""
    doc = json.loads((ROOT / f"deploy/minio/{name}-policy.json").read_text(encoding="utf-8"))
    pick = {e: [s for s in doc["Statement"] if s["Effect"] == e] for e in ("Allow", "Deny")}
    return ({a for s in pick["Allow"] for a in s["Action"]}, {a for s in pick["Deny"] for a in s["Action"]},
            {r for s in pick["Allow"] for r in s["Resource"]})


# ---- the Compose Specification ---------------------------------------------------------------------------------

def _validator() -> jsonschema.Draft202012Validator:
    text = (importlib.resources.files("check_jsonschema") / "builtin_schemas/vendor/compose-spec.json").read_text()
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_the_compose_file_follows_the_compose_specification() -> None:
    validator = _validator()
    for label, doc in (("as written", _compose()), ("interpolated", _interpolate(_compose(), ENV))):
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
        assert not errors, f"{label}:\n" + "\n".join(errors)
    broken = _compose()
    broken["services"]["api"]["healthcheck"]["intervall"] = "5s"  # the schema does catch a misspelt key
    assert list(validator.iter_errors(broken))
    with pytest.raises(KeyError, match="AGENCY_TSA_URL"):
        _interpolate(_compose(), {})  # the TSA is required: compose refuses to start without it


def _compose_client() -> list[str] | None:
    for argv in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(argv[0]) and subprocess.run([*argv, "version"], capture_output=True).returncode == 0:
            return argv
    return None


def test_docker_compose_config_accepts_the_file_where_a_client_is_installed() -> None:
    client = _compose_client()
    if client is None:
        pytest.skip("no docker compose client here (Debian's docker-compose package provides one)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENCY_", "ARCHIVE_", "COMPOSE_"))}
    ok = subprocess.run([*client, "-f", str(COMPOSE_FILE), "config"], capture_output=True, text=True,
                        env={**env, **ENV, "ARCHIVE_OCR_WORKERS": "3"}, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    resolved = yaml.safe_load(ok.stdout)["services"]
    assert set(resolved) == set(_services())
    assert resolved["worker-ocr"]["deploy"]["replicas"] == 3
    missing = subprocess.run([*client, "-f", str(COMPOSE_FILE), "config", "-q"], capture_output=True, text=True,
                             env=env, cwd=ROOT)
    assert missing.returncode != 0 and "AGENCY_TSA_URL" in missing.stderr


# ---- services, health, listeners, networks, volumes -------------------------------------------------------------

def test_every_service_is_there_and_every_long_running_one_has_a_health_check() -> None:
    services = _services()
    assert set(services) == {*APP_SERVICES, *DATA_STORES, *ONE_SHOT, "flower"}
    for name, service in services.items():
        if name in ONE_SHOT:  # a job: its dependents wait for it to complete
            assert service["restart"] == "no" and "healthcheck" not in service
            dependents = [s for s in services.values() if name in s.get("depends_on", {})]
            assert dependents and all(s["depends_on"][name]["condition"] == "service_completed_successfully"
                                      for s in dependents)
            continue
        check = service.get("healthcheck")
        assert check and check["test"][0] in ("CMD", "CMD-SHELL") and not check.get("disable"), name
        assert service["restart"] == "unless-stopped", name
    api_check = " ".join(services["api"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/readyz" in api_check
    for name in ("worker-ocr", "worker-index", "beat"):
        assert services[name]["healthcheck"]["test"][-1] == "worker", name
    for name in APP_SERVICES:
        assert services[name]["depends_on"] == {
            "minio-init": {"condition": "service_completed_successfully"},
            "redis": {"condition": "service_healthy"}, "postgres": {"condition": "service_healthy"}}
    assert services["minio-init"]["depends_on"] == {"minio": {"condition": "service_healthy"}}


def test_only_the_api_listens_on_every_interface_and_flower_on_loopback() -> None:
    published = {name: s.get("ports", []) for name, s in _services().items()}
    assert published.pop("api") == ["0.0.0.0:8000:8000"]
    assert published.pop("flower") == ["127.0.0.1:5555:5555"]
    assert not any(published.values()), published
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert "TLS reverse proxy" in text  # the API speaks plain HTTP: documented to be fronted by TLS
    networks = _compose()["networks"]
    assert networks["backend"] == {"internal": True}
    for name in (*DATA_STORES, *ONE_SHOT):
        assert _services()[name]["networks"] == ["backend"], name  # unreachable from outside, no route out


def test_workers_and_the_scheduler_consume_every_queue_once() -> None:
    services = _interpolate(_compose(), ENV)["services"]
    routes = (ROOT / "pipeline/entry/worker.py").read_text(encoding="utf-8")
    queues = set(re.findall(r'"archive\.\w+": \{"queue": "(\w+)"\}', routes))
    assert queues == {"ocr", "index", "renew"}
    consumed: dict[str, str] = {}
    for name in ("worker-ocr", "worker-index", "beat"):
        command = services[name]["command"]
        assert command[0] == "worker"
        for queue in command[command.index("--queues") + 1].split(","):
            assert queue not in consumed, f"{queue}: consumed by {consumed.get(queue)} and {name}"
            consumed[queue] = name
    assert consumed == {"ocr": "worker-ocr", "index": "worker-index", "renew": "beat"}
    assert services["api"]["command"] == ["serve", "--host", "0.0.0.0", "--port", "8000"]
    index, beat = services["worker-index"], services["beat"]
    assert index["command"][-2:] == ["--concurrency", "1"] and index["deploy"]["replicas"] == 1
    assert "--beat" in beat["command"] and beat["deploy"]["replicas"] == 1  # one scheduler, never two
    assert sum("--beat" in s.get("command", []) for s in services.values()) == 1
    assert isinstance(services["worker-ocr"]["deploy"]["replicas"], int)  # scalable


def test_named_volumes_and_the_shared_archive_home() -> None:
    services = _services()
    assert set(_compose()["volumes"]) == {"minio-data", "postgres-data", "redis-data", "archive-home", "batches"}
    for name in APP_SERVICES:
        assert "archive-home:/data" in services[name]["volumes"], name  # the index and the metrics, shared
    assert "batches:/batches" in services["api"]["volumes"]  # uploads: the API writes the intake ...
    assert "batches:/batches:ro" in services["worker-ocr"]["volumes"]  # ... the OCR workers only read it
    assert services["minio"]["volumes"] == ["minio-data:/data"]
    assert services["postgres"]["volumes"] == ["postgres-data:/var/lib/postgresql/data"]
    binds = [v for s in services.values() for v in s.get("volumes", []) if v.startswith((".", "/"))]
    assert binds == ["./deploy/minio:/policy:ro"]


# ---- secrets -----------------------------------------------------------------------------------------------------

SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY\b|_KEY_|AUTH|PIN\b")
NOT_SECRET = {"ARCHIVE_S3__ACCESS_KEY"}  # a MinIO user name


def test_every_password_comes_from_a_secret_file_and_none_is_written_here() -> None:
    compose = _compose()
    declared = compose["secrets"]
    assert all(set(s) == {"file"} and s["file"].startswith("./secrets/") for s in declared.values())
    for name, service in compose["services"].items():
        mine = set(service.get("secrets", []))
        assert mine <= set(declared), name
        for key, value in service.get("environment", {}).items():
            value = str(value)
            assert not re.search(r"://[^/@\s]*:[^/@\s]+@", value), f"{name}: {key} has a password in a URL"
            if SECRET_NAME.search(key) and key not in NOT_SECRET:
                assert key.endswith("_FILE") and value.startswith("/run/secrets/"), f"{name}: {key}"
        text = json.dumps(service)
        used = set(re.findall(r"/run/secrets/(\w+)", text))
        assert used <= mine, f"{name} reads secrets it is not given: {used - mine}"
        for url_password in re.findall(r"://[^/@\s:]*:([^@\s]+)@", text):
            assert url_password.startswith("$$(cat /run/secrets/"), f"{name}: literal password in a URL"
        assert not re.search(r"redis-cli[^\"]* -a |--requirepass|--password[= ]", text), name
    services = compose["services"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert services["minio"]["environment"]["MINIO_ROOT_PASSWORD_FILE"] == "/run/secrets/minio_root_password"
    assert "requirepass" in services["redis"]["command"][0] and "REDISCLI_AUTH" in str(services["redis"]["healthcheck"])
    assert "FLOWER_BASIC_AUTH=\"$$(cat /run/secrets/flower_basic_auth)\"" in services["flower"]["command"][0]
    root_holders = {n for n, s in services.items() if "MINIO_ROOT" in json.dumps(s)}
    assert root_holders == {"minio", "minio-init"}  # the application never gets the MinIO root account


def _stand_ins(service: dict[str, Any], tmp_path: Path) -> dict[str, str]:
    environ = {}
    for key, value in _interpolate(service["environment"], ENV).items():
        value = str(value)
        if key.endswith("_FILE") and value.startswith("/run/secrets/"):
            stand_in = tmp_path / value.rsplit("/", 1)[1]
            stand_in.write_text(f"value-of-{stand_in.name}\n", encoding="utf-8")
            value = str(stand_in)
        environ[key] = value
    return {**environ, "ARCHIVE_HOME": str(tmp_path / "home")}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_application_container_gets_a_valid_configuration(name: str, tmp_path: Path) -> None:
    service = _services()[name]
    settings = load_settings(environ=_stand_ins(service, tmp_path))
    user, secret = ("archive-api", "archive_api_s3_secret_key") if name == "api" else ("archive-app",
                                                                                      "archive_s3_secret_key")
    assert (settings.s3.access_key, settings.s3.secret_key) == (user, f"value-of-{secret}")
    assert secret in service["secrets"] and settings.s3.bucket == BUCKET and not settings.s3.manage_local
    assert settings.redis.password == "value-of-redis_password"
    assert settings.redis.message_key == "value-of-message_key"
    assert settings.audit.seal_key == "value-of-audit_seal_key"
    assert settings.catalog_url == "postgresql://archive:value-of-postgres_password@postgres:5432/archive"
    assert settings.intake_roots == [Path("/batches")]
    signs = name != "worker-index"  # the index writer never signs: it gets no signing material
    assert (settings.sign.pkcs12_password == "value-of-agency_p12_password") is signs
    assert ("agency_p12" in service["secrets"]) is signs
    assert settings.sign.tsa_url == (ENV["AGENCY_TSA_URL"] if signs else "")
    assert service["user"] == f"{APP_UID}:{APP_UID}" and service["cap_drop"] == ["ALL"]


# ---- MinIO: the policies, the users, the init script -----------------------------------------------------------

# Every minio-py call of the code (pipeline/ but its devtools, search/) and the S3 actions it needs (PUTs carry
# lock and hold headers). `client.` is also Redis's client in pipeline/app/health.py: NOT_S3.
S3_CALLS = {
    "bucket_exists": {"s3:ListBucket"},
    "get_bucket_versioning": {"s3:GetBucketVersioning"},
    "get_object_lock_config": {"s3:GetBucketObjectLockConfiguration"},
    "get_object": {"s3:GetObject", "s3:GetObjectVersion"},
    "fget_object": {"s3:GetObject", "s3:GetObjectVersion"},
    "stat_object": {"s3:GetObject", "s3:GetObjectVersion"},
    "list_objects": {"s3:ListBucket", "s3:ListBucketVersions"},
    "put_object": {"s3:PutObject", "s3:PutObjectRetention", "s3:PutObjectLegalHold", "s3:AbortMultipartUpload"},
    "fput_object": {"s3:PutObject", "s3:PutObjectRetention", "s3:PutObjectLegalHold", "s3:AbortMultipartUpload"},
    "_put_object": {"s3:PutObject", "s3:PutObjectRetention"},
    "get_object_retention": {"s3:GetObjectRetention"},
    "set_object_retention": {"s3:PutObjectRetention"},
    "enable_object_legal_hold": {"s3:PutObjectLegalHold"},
    "disable_object_legal_hold": {"s3:PutObjectLegalHold"},
    "is_object_legal_hold_enabled": {"s3:GetObjectLegalHold"},
    # MinIO checks s3:DeleteObject for a versioned delete (and refuses it on a Deny of DeleteObjectVersion).
    "remove_object": {"s3:DeleteObject", "s3:DeleteObjectVersion"},
    "make_bucket": {"s3:CreateBucket"},
    "set_bucket_versioning": {"s3:PutBucketVersioning"},
}
NOT_S3 = {"ping", "close"}
BY_INIT = {"make_bucket", "set_bucket_versioning"}  # minio-init does these: the code skips them on its bucket
DISPOSAL = {"remove_object"}  # only `archive disposal execute` (the API, the records office) deletes
NEVER = {"s3:BypassGovernanceRetention", "s3:CreateBucket", "s3:DeleteBucket", "s3:ForceDeleteBucket",
         "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketVersioning",
         "s3:PutBucketObjectLockConfiguration", "s3:PutLifecycleConfiguration", "s3:PutReplicationConfiguration"}


def _needed(calls: set[str]) -> set[str]:
    return {action for call in calls for action in S3_CALLS[call]}


def test_the_minio_policies_grant_exactly_what_the_code_calls() -> None:
    files = [p for d in ("pipeline", "search") for p in (ROOT / d).rglob("*.py") if "devtools" not in p.parts]
    sources = "\n".join(p.read_text(encoding="utf-8") for p in files)
    calls = set(re.findall(r"\bclient\.(_?[a-z_]+)\(", sources)) - NOT_S3
    assert calls <= set(S3_CALLS), f"new S3 calls {calls - set(S3_CALLS)}: add their actions to the policies"
    assert calls >= BY_INIT | DISPOSAL
    app_allowed, app_denied, app_resources = _policy("archive-app")
    api_allowed, api_denied, api_resources = _policy("archive-api")
    assert app_allowed == _needed(calls - BY_INIT - DISPOSAL)
    assert api_allowed == _needed(calls - BY_INIT)
    assert app_resources == api_resources == {f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"}
    assert app_denied >= NEVER and api_denied >= NEVER
    assert {"s3:DeleteObject", "s3:DeleteObjectVersion"} <= app_denied  # workers cannot delete anything
    assert not app_allowed & app_denied and not api_allowed & api_denied
    assert not any("*" in a for a in app_allowed | api_allowed)


def test_minio_init_makes_the_bucket_and_users_the_services_use() -> None:
    services = _services()
    init = services["minio-init"]["environment"]
    assert init["ARCHIVE_BUCKET"] == BUCKET
    assert init["ARCHIVE_S3_USER"] == services["worker-ocr"]["environment"]["ARCHIVE_S3__ACCESS_KEY"]
    assert init["ARCHIVE_API_S3_USER"] == services["api"]["environment"]["ARCHIVE_S3__ACCESS_KEY"]
    assert set(services["minio-init"]["secrets"]) == {"minio_root_password", "archive_s3_secret_key",
                                                      "archive_api_s3_secret_key"}


FAKE_MC = """#!/bin/sh
echo "$*" >> "$MC_LOG"
case "$1 $2 $3" in
  "stat --json "*)
    printf '{\\n "status": "success",\\n "ObjectLock": {\\n  "enabled": "%s",\\n  "mode": ""\\n }\\n}\\n' \
      "$FAKE_LOCK" ;;
  "admin user info")
    [ "$5" = "$ARCHIVE_S3_USER" ] && p=archive-app || p=archive-api
    printf '{"status": "success", "accessKey": "%s", "policyName": "%s%s", "userStatus": "enabled"}\\n' \
      "$5" "$p" "$FAKE_EXTRA_POLICY" ;;
esac
"""


def _run_init(tmp_path: Path, lock: str = "Enabled", extra_policy: str = "",
              api_secret: str = "b" * 64) -> tuple[subprocess.CompletedProcess[str], str]:
    bin_dir, secrets = tmp_path / "bin", tmp_path / "secrets"
    bin_dir.mkdir()
    secrets.mkdir()
    (bin_dir / "mc").write_text(FAKE_MC, encoding="utf-8")
    (bin_dir / "mc").chmod(0o755)
    for name, value in (("minio_root_password", "r" * 64), ("archive_s3_secret_key", "a" * 64),
                        ("archive_api_s3_secret_key", api_secret)):
        (secrets / name).write_text(value, encoding="utf-8")
    log = tmp_path / "mc.log"
    env = {**os.environ, **_services()["minio-init"]["environment"], "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "MC_LOG": str(log), "FAKE_LOCK": lock, "FAKE_EXTRA_POLICY": extra_policy,
           "SECRETS_DIR": str(secrets), "POLICY_DIR": str(ROOT / "deploy/minio")}
    done = subprocess.run(["sh", str(ROOT / "deploy/minio/init.sh")], env=env, capture_output=True, text=True,
                          timeout=60)
    return done, log.read_text(encoding="utf-8") if log.exists() else ""


def test_minio_init_runs_against_a_stand_in_mc(tmp_path: Path) -> None:
    done, log = _run_init(tmp_path)
    assert done.returncode == 0, done.stderr
    policies = ROOT / "deploy/minio"
    for expected in (f"mb --ignore-existing --with-lock local/{BUCKET}", f"version enable local/{BUCKET}",
                     f"anonymous set none local/{BUCKET}", f"stat --json local/{BUCKET}",
                     f"admin policy create local archive-app {policies}/archive-app-policy.json",
                     f"admin policy create local archive-api {policies}/archive-api-policy.json",
                     f"admin user add local archive-app {'a' * 64}", f"admin user add local archive-api {'b' * 64}",
                     "admin policy attach local archive-app --user archive-app",
                     "admin policy attach local archive-api --user archive-api"):
        assert expected in log.splitlines(), expected
    assert not re.search(r"bypass|retention clear|\brb\b|--force|legalhold clear|policy detach", log)


@pytest.mark.parametrize(("change", "reason"), [
    ({"lock": "Disabled"}, "without Object Lock"),
    ({"extra_policy": ",readwrite"}, "exactly the policy archive-app"),
    ({"api_secret": "a" * 64}, "must differ"),
])
def test_minio_init_refuses_an_unsafe_state(tmp_path: Path, change: dict[str, str], reason: str) -> None:
    done, _ = _run_init(tmp_path, **change)
    assert done.returncode != 0 and reason in done.stderr


# ---- the image ---------------------------------------------------------------------------------------------------

def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines]


def test_the_dockerfile_installs_through_the_setup_script_and_runs_as_a_non_root_user() -> None:
    steps = _instructions()
    assert steps[0][0] == "FROM" and re.fullmatch(r"debian:(bookworm|12)(-slim)?", steps[0][1])
    runs = [arg for op, arg in steps if op == "RUN"]
    setup = next(r for r in runs if "scripts/setup.sh" in r)
    assert "apt-get upgrade -y" in setup and setup.index("apt-get upgrade") < setup.index("scripts/setup.sh")
    assert not any("apt-get install" in r for r in runs)  # the package list lives in scripts/setup.sh only
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0", "root:root")
    assert users[-1] == f"{APP_UID}:{APP_UID}" and any(f"--uid {APP_UID}" in r for r in runs)
    assert [op for op, _ in steps].index("USER") > [op for op, _ in steps].index("RUN")
    health = next(arg for op, arg in steps if op == "HEALTHCHECK")
    assert "CMD" in health and "/healthz" in health
    assert dict(steps)["ENTRYPOINT"] == '["archive"]'
    for op, arg in steps:
        if op in ("ENV", "ARG"):
            assert not SECRET_NAME.search(arg.upper()), f"{op} {arg}: no secret in the image"
        if op in ("COPY", "ADD"):
            assert "secret" not in arg and ".p12" not in arg and ".env" not in arg


def _ignored(path: str, patterns: list[str]) -> bool:
    parts = path.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern.lstrip("!").strip("/")
        regex = re.escape(body).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, c) for c in candidates):
            ignored = not negate
    return ignored


def test_the_build_context_keeps_out_secrets_and_keeps_in_what_the_image_needs() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
    for path in ("secrets/redis_password", "secrets/agency.p12", ".env", ".venv/bin/python", ".git/config",
                 "deploy/secrets/x", "some/agency.p12", "key.pem", ".archive-home/config.toml", "tests/conftest.py"):
        assert _ignored(path, patterns), path
    for path in ("pyproject.toml", "README.md", "scripts/setup.sh", "deploy/healthcheck.py",
                 "pipeline/core/secrets.py", "pipeline/entry/worker.py", "search/__init__.py"):
        assert not _ignored(path, patterns), path
    assert "/secrets/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()


# ---- the secrets script and the health checks ---------------------------------------------------------------------

def test_make_secrets_writes_every_generated_secret_once_private_and_without_newline(tmp_path: Path) -> None:
    out = tmp_path / "secrets"
    env = {**os.environ, "ARCHIVE_SECRETS_CHOWN": "no"}
    first = subprocess.run(["sh", str(ROOT / "deploy/make-secrets.sh"), str(out)], env=env, capture_output=True,
                           text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    files = {f"./secrets/{p.name}" for p in out.iterdir()}
    agency = {"./secrets/agency.p12", "./secrets/agency_p12_password", "./secrets/root-ca.pem",
              "./secrets/agency-seal.png"}
    assert files | agency == {s["file"] for s in _compose()["secrets"].values()} and not files & agency
    assert all(name.removeprefix("./secrets/") in first.stdout for name in agency)  # told what is missing
    values = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()}
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o400, path.name
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for name, value in values.items():
        assert re.fullmatch(r"(admin:)?[0-9a-f]{64}", value), name
    assert values["flower_basic_auth"].startswith("admin:") and len(set(values.values())) == len(values)
    again = subprocess.run(["sh", str(ROOT / "deploy/make-secrets.sh"), str(out)], env=env, capture_output=True,
                           text=True, timeout=60)
    assert again.returncode == 0 and "created" not in again.stdout
    assert {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()} == values  # never overwritten


def _healthcheck_module() -> Any:
    spec = importlib.util.spec_from_file_location("deploy_healthcheck", ROOT / "deploy/healthcheck.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Probe(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 503)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_the_health_checks(tmp_path: Path) -> None:
    health = _healthcheck_module()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Probe)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert health.main(["http", f"{base}/healthz"]) == 0
        assert health.main(["http", f"{base}/readyz"]) == 1  # 503: not ready
    finally:
        server.shutdown()
        server.server_close()
    assert health.main(["http", f"{base}/healthz"]) == 1  # nobody listening
    assert health.main(["nonsense"]) == 2

    def ping(_timeout: float) -> list[dict[str, Any]]:
        return [{"archive-7@c0ffee": {"ok": "pong"}}]

    def down(_timeout: float) -> list[dict[str, Any]]:
        raise ConnectionError("broker unreachable")

    assert health.check_worker(ping, hostname="c0ffee")
    assert not health.check_worker(ping, hostname="other-replica")  # another container's reply is not ours
    assert not health.check_worker(down, hostname="c0ffee")
    assert not health.check_worker(lambda _t: [], hostname="c0ffee")
