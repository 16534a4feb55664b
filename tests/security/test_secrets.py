"""Secrets never sit in config.toml, are owner-only on disk, and are not inherited by child processes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.core.settings import ConfigError, load_settings, update_config, write_settings

ARCHIVE = Path(sys.executable).with_name("archive")


def test_a_secret_in_config_toml_is_refused_with_where_to_put_it(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[s3]\nsecret_key = "hunter2"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, environ={})
    assert "s3.secret_key is a secret and config.toml must hold none" in str(caught.value)
    assert str(tmp_path.resolve() / "secrets" / "s3.secret_key") in str(caught.value)


def test_a_database_password_inside_catalog_url_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[catalog]\nurl = "postgresql://archive:pw@db/archive"\n',
                                          encoding="utf-8")
    with pytest.raises(ConfigError, match=r"catalog\.url holds a password"):
        load_settings(tmp_path, environ={})
    (tmp_path / "config.toml").write_text('[catalog]\nurl = "postgresql://archive@db/archive"\n', encoding="utf-8")
    settings = load_settings(tmp_path, environ={"ARCHIVE_CATALOG__PASSWORD": "p@ss:word"})
    assert settings.catalog_url == "postgresql://archive:p%40ss%3Aword@db/archive"


def test_a_secret_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "secrets"
    folder.mkdir()
    (folder / "redis.password").write_text("pw\n", encoding="utf-8")
    (folder / "redis.password").chmod(0o644)
    with pytest.raises(ConfigError, match=r"redis.password: readable by other users .*chmod 600"):
        load_settings(tmp_path, environ={})
    (folder / "redis.password").chmod(0o600)
    assert load_settings(tmp_path, environ={}).redis.password == "pw"


def test_secret_sources_in_order_file_then_file_variable_then_variable(tmp_path: Path) -> None:
    docker_secret = tmp_path / "run-secrets-s3"
    docker_secret.write_text("from-docker-secret\n", encoding="utf-8")
    write_settings(load_settings(tmp_path, environ={"ARCHIVE_S3__SECRET_KEY": "from-home"}))
    assert load_settings(tmp_path, environ={}).s3.secret_key == "from-home"
    via_file = {"ARCHIVE_S3__SECRET_KEY_FILE": str(docker_secret)}
    assert load_settings(tmp_path, environ=via_file).s3.secret_key == "from-docker-secret"
    both = via_file | {"ARCHIVE_S3__SECRET_KEY": "from-env"}
    assert load_settings(tmp_path, environ=both).s3.secret_key == "from-env"
    with pytest.raises(ConfigError, match="cannot read the secret"):
        load_settings(tmp_path, environ={"ARCHIVE_S3__SECRET_KEY_FILE": str(tmp_path / "absent")})


def test_write_settings_keeps_secrets_out_of_config_toml(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})
    settings.s3.secret_key, settings.sign.pkcs12_password = "s3-secret-value", "p12-secret-value"
    write_settings(settings)
    config = (tmp_path / "config.toml").read_text(encoding="utf-8")
    assert "s3-secret-value" not in config and "p12-secret-value" not in config
    for name in ("s3.secret_key", "sign.pkcs12_password"):
        mode = stat.S_IMODE((tmp_path / "secrets" / name).stat().st_mode)
        assert mode == 0o600, f"{name}: {oct(mode)}"
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700
    assert load_settings(tmp_path, environ={}) == settings


def test_update_config_writes_only_the_keys_given(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[ocr]\nlanguage = "vie+eng"\n', encoding="utf-8")
    update_config(tmp_path, {"sign.tsa_url": "http://tsa", "sign.pkcs12_password": "pw-123"})
    config = (tmp_path / "config.toml").read_text(encoding="utf-8")
    assert 'language = "vie+eng"' in config and 'tsa_url = "http://tsa"' in config
    assert "pw-123" not in config and "redis" not in config  # no defaults, no environment copied in
    assert load_settings(tmp_path, environ={}).sign.pkcs12_password == "pw-123"


def test_cert_init_test_never_writes_the_environment_into_config_toml(tmp_path: Path) -> None:
    """The reported attack: init-test wrote every ARCHIVE_* override of that moment (the token PIN, the S3
    secret key) into a world-readable config.toml."""
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "ARCHIVE_HOME": str(tmp_path / "home"),
           "ARCHIVE_SIGN__PKCS11_PIN": "pin-4711-secret", "ARCHIVE_S3__SECRET_KEY": "s3-key-secret",
           "ARCHIVE_SIGN__RESPONDERS_PORT": "9791"}
    done = subprocess.run([str(ARCHIVE), "cert", "init-test"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    home = tmp_path / "home"
    for path in home.rglob("*"):
        if path.is_file() and path.parent.name != "secrets":
            data = path.read_bytes()
            assert b"pin-4711-secret" not in data and b"s3-key-secret" not in data, path
    config = (home / "config.toml").read_text(encoding="utf-8")
    assert "responders_port" not in config and "pkcs11" not in config and "password" not in config
    password = (home / "secrets" / "sign.pkcs12_password").read_text(encoding="utf-8").strip()
    assert len(password) >= 16 and password not in config  # generated, not a well-known default
    offenders = [str(p) for p in [home, *home.rglob("*")] if p.stat().st_mode & 0o077]
    assert offenders == []


SCRUB_PROBE = """
import os, subprocess, sys
from pipeline.core.secrets import scrub_environment
from pipeline.core.settings import load_settings
scrub_environment()
child = subprocess.run(["env"], capture_output=True, text=True, check=True).stdout
print("child-sees-secret" if "redis-pw-in-env" in child else "child-clean")
print("settings-have-secret" if load_settings().redis.password == "redis-pw-in-env" else "settings-lost-it")
"""


def test_child_processes_do_not_inherit_secret_variables(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "ARCHIVE_HOME": str(tmp_path), "ARCHIVE_REDIS__PASSWORD": "redis-pw-in-env"}
    done = subprocess.run([sys.executable, "-c", SCRUB_PROBE], env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.split() == ["child-clean", "settings-have-secret"]
