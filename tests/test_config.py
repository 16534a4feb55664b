from pathlib import Path

from pipeline.core.settings import load_settings, write_settings


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
