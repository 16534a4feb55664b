"""Regression: with no TSA or seal configured, production signing got the TEST PKI's TSA and a generated TEST
seal. Now only a configuration written by `archive cert init-test` uses TEST material."""

from __future__ import annotations

from pathlib import Path

from pipeline.app.signing import sign_policy
from pipeline.core.record import Origin
from pipeline.core.settings import load_settings


def test_a_plain_configuration_uses_no_test_material(tmp_path: Path) -> None:
    from pipeline.devtools import init_test_pki

    pki = init_test_pki(tmp_path / "pki")
    settings = load_settings(tmp_path, environ={})
    settings.sign.pkcs12_path = str(pki.agency_p12)  # the TEST key copied into a production configuration
    policy = sign_policy(settings, Origin.SCANNED)
    assert policy.tsa_url == "" and policy.level == "B-B"
    assert policy.seal_png is None and policy.allow_test_material is False


def test_init_test_configuration_is_explicit(tmp_path: Path) -> None:
    from pipeline.devtools import init_test_pki
    from pipeline.devtools.testconfig import use_test_pki

    pki = init_test_pki(tmp_path / "pki")
    settings = use_test_pki(load_settings(tmp_path, environ={}), pki)
    policy = sign_policy(settings, Origin.SCANNED)
    assert policy.tsa_url == pki.tsa_url and policy.level == "B-LTA"
    assert policy.seal_png is not None and policy.seal_png.is_file() and policy.allow_test_material
