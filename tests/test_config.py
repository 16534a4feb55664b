from pathlib import Path

import pytest
from pydantic import BaseModel

from pipeline.core.settings import (
    ENV_NOT_SETTINGS,
    ConfigError,
    Settings,
    env_names,
    load_settings,
    write_settings,
)


def test_env_overrides_toml_and_home(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[redis]\nport = 7000\n[ocr]\nlanguage = "eng"\n', encoding="utf-8")
    settings = load_settings(tmp_path, environ={"ARCHIVE_OCR__LANGUAGE": "vie+eng",
                                                "ARCHIVE_SIGN__TRUST_ROOTS": "/a.pem, /b.pem",
                                                "ARCHIVE_S3__SECURE": "true"})
    assert settings.redis.port == 7000
    assert settings.ocr.language == "vie+eng"
    assert settings.trust_roots == [Path("/a.pem"), Path("/b.pem")]
    assert settings.s3.secure is True
    assert settings.index_dir == tmp_path.resolve() / "index" / settings.search.engine


def test_write_then_load_round_trips(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})
    settings.redis.port = 6444
    settings.sign.pkcs12_password = 'p"w\\d'
    settings.sign.agency_name = "Văn phòng Bộ"
    write_settings(settings)
    again = load_settings(tmp_path, environ={})
    assert again == settings


# ---- one-line configuration errors ------------------------------------------------------------------------


def _error(home: Path, toml: str | None = None, environ: dict[str, str] | None = None) -> str:
    if toml is not None:
        (home / "config.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(home, environ=environ or {})
    message = str(caught.value)
    assert "\n" not in message and "validation error" not in message
    return message


def test_wrong_type_names_file_key_and_reason(tmp_path: Path) -> None:
    message = _error(tmp_path, '[redis]\nport = "abc"\n')
    assert message == f"{tmp_path.resolve() / 'config.toml'}: redis.port: must be an integer"
    assert isinstance(ConfigError(message), ValueError)


def test_wrong_type_from_environment_names_the_variable(tmp_path: Path) -> None:
    message = _error(tmp_path, environ={"ARCHIVE_REDIS__PORT": "abc"})
    assert message == "environment ARCHIVE_REDIS__PORT: redis.port: must be an integer"


def test_malformed_toml_names_the_line(tmp_path: Path) -> None:
    message = _error(tmp_path, '[redis]\nport = 7000\nhost = = "x"\n')
    assert message.startswith(f"{tmp_path.resolve() / 'config.toml'}: line 3: ")


def test_unknown_key_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    assert _error(tmp_path, '[sign]\ntsa_ulr = "http://tsa"\n').endswith(
        "config.toml: unknown key sign.tsa_ulr (did you mean tsa_url?)")
    assert _error(tmp_path, "[sgin]\nenabled = true\n").endswith("unknown key sgin (did you mean sign?)")


def test_unknown_environment_variable_is_an_error(tmp_path: Path) -> None:
    assert _error(tmp_path, environ={"ARCHIVE_REDIS_PORT": "7000"}) == (
        "environment ARCHIVE_REDIS_PORT: not a setting (did you mean ARCHIVE_REDIS__PORT?)")
    # Variables the project reads that are not settings stay allowed.
    allowed = {"ARCHIVE_HOME": "/elsewhere", "ARCHIVE_USER": "nguyen", "ARCHIVE_DEBUG": "1"}
    assert set(allowed) <= ENV_NOT_SETTINGS
    assert load_settings(tmp_path, environ=allowed).home == tmp_path.resolve()


def test_every_section_is_checked_generically(tmp_path: Path) -> None:
    """Sections added later are covered without touching the checks: every field of every section
    is reachable from the environment, and a typo in any section is refused."""
    names = set(env_names())
    for section, field in Settings.model_fields.items():
        model = field.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            assert {f"ARCHIVE_{section.upper()}__{key.upper()}" for key in model.model_fields} <= names
            assert "unknown key" in _error(tmp_path, f"[{section}]\nno_such_key_xyz = 1\n")
            (tmp_path / "config.toml").unlink()
            assert "not a setting" in _error(tmp_path, environ={f"ARCHIVE_{section.upper()}__NO_SUCH_KEY_XYZ": "1"})


def test_s3_endpoint_with_a_scheme_is_explained(tmp_path: Path) -> None:
    message = _error(tmp_path, environ={"ARCHIVE_S3__ENDPOINT": "http://127.0.0.1:9000"})
    assert message == ("environment ARCHIVE_S3__ENDPOINT: s3.endpoint: give host:port without a scheme "
                       "(set s3.secure = true for https)")


def test_environment_booleans_and_strings(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={"ARCHIVE_S3__SECURE": "Yes", "ARCHIVE_SIGN__REASON": "yes",
                                                "ARCHIVE_SERVICES__LOCAL_WORKER": "off"})
    assert settings.s3.secure is True
    assert settings.sign.reason == "yes"  # a string setting keeps the text
    assert settings.services.local_worker is False
