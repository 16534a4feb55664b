"""An ARCHIVE_HOME configured with a TEST PKI of its own, and the `archive` command run against it,
optionally inside a new network namespace (`unshare --net`: its loopback is down, nothing answers)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.settings import load_settings, write_settings
from pipeline.devtools import init_test_pki
from pipeline.devtools.testconfig import use_test_pki
from pipeline.sign import TestPki
from tests.sign.helpers import free_port

ARCHIVE = str(Path(sys.executable).with_name("archive"))


@dataclass
class Home:
    root: Path
    pki: TestPki
    env: dict[str, str]

    def run(self, *args: str, offline: bool = False, **extra_env: str) -> subprocess.CompletedProcess[str]:
        """``archive ARGS``; ``offline``: inside a new network namespace (no route to any responder)."""
        cmd = ["unshare", "--net", ARCHIVE, *args] if offline else [ARCHIVE, *args]
        return subprocess.run(cmd, env={**self.env, **extra_env}, capture_output=True, text=True, timeout=300)


def make_home(root: Path) -> Home:
    """A home whose configuration selects a fresh TEST PKI (responder port free now); the PKCS#12
    password lands in ``secrets/sign.pkcs12_password`` (0600), never in config.toml."""
    pki = init_test_pki(root / "pki", port=free_port())
    write_settings(use_test_pki(load_settings(root, environ={}), pki))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")} | {"ARCHIVE_HOME": str(root)}
    return Home(root, pki, env)
