"""Configuration to signing inputs, in one place for ingest, `archive sign` and renewal.

TEST material is never used implicitly: the TSA and the seal come from the configuration alone
(`archive cert init-test` writes both for trials).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pipeline import sign
from pipeline.core.record import Origin
from pipeline.core.settings import Settings


def signer_config(settings: Settings) -> sign.SignerConfig:
    cfg = settings.sign
    return sign.SignerConfig(
        pkcs12_path=None if cfg.pkcs11_module else settings.pkcs12_path,
        pkcs12_password=cfg.pkcs12_password,
        pkcs11_module=cfg.pkcs11_module,
        pkcs11_token_label=cfg.pkcs11_token_label,
        pkcs11_key_label=cfg.pkcs11_key_label,
        pkcs11_pin=cfg.pkcs11_pin,
        chain=tuple(Path(p) for p in cfg.chain),
    )


def sign_policy(settings: Settings, origin: Origin, level: str | None = None) -> sign.SignPolicy:
    """Configuration to policy: B-LTA when a TSA is known; Decree 30 stamp on copies made from paper."""
    cfg = settings.sign
    tsa_url = cfg.tsa_url
    return sign.SignPolicy(
        level=sign.resolve_level(level or cfg.level, tsa_url),
        field_name=cfg.field_name,
        reason=cfg.reason,
        location=cfg.location,
        agency_name=cfg.agency_name,
        visible=sign.visible_for(origin.value, cfg.visible_scanned, cfg.visible_born_digital),
        tsa_url=tsa_url,
        trust_roots=tuple(p for p in settings.trust_roots if p.is_file()),
        seal_png=Path(cfg.seal_png) if cfg.seal_png else None,
        stamp_text=cfg.stamp_text,
        revocation_mode=cfg.revocation_mode,
        allow_test_material=cfg.test_material,
    )


def sign_file(settings: Settings, src: Path, dst: Path, level: str | None = None,
              visible: bool | None = None) -> sign.SignatureInfo:
    """`archive sign`: one PDF with the configured agency key, as a born-digital document."""
    policy = sign_policy(settings, Origin.BORN_DIGITAL, level)
    if visible is not None:
        policy = dataclasses.replace(policy, visible=visible)
    return sign.sign_pdf(src, dst, signer_config(settings), policy)
