"""Issue 9, finding 4 — revocation soft-failed: offline, a signature by a revoked certificate verified
`valid: true` (exit 0), and `archive sign --level B-B` signed with a revoked certificate.

The attacks run for real: the `archive` command in a network namespace of its own (`unshare -n`: no
route to the TEST PKI's OCSP/CRL responders, which keep running on the host's loopback), a signature
made with the revoked TEST key by pyHanko directly, and the configured key swapped for the revoked one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyhanko.sign import fields

from pipeline.devtools.responders import Responders
from tests.security.pki_home import Home, make_home
from tests.sign.helpers import make_pdfa, pyhanko_sign

EXIT_INDETERMINATE = 4
SIGNING_REFUSED = "cannot check whether the agency certificate is revoked"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return make_home(tmp_path_factory.mktemp("revocation-home"))


@pytest.fixture(scope="module")
def responders(home: Home) -> Iterator[Responders]:
    """The TEST PKI's OCSP/CRL/TSA, up on the host for the whole module: only the namespace cuts them off."""
    with Responders(home.pki.directory) as running:
        yield running


@pytest.fixture(scope="module")
def pdfa(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pdfa(tmp_path_factory.mktemp("input") / "cong-van.pdf")


@pytest.fixture(scope="module")
def revoked_signature(home: Home, pdfa: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PAdES B-B signature by the revoked TEST certificate, made by pyHanko without the archive's checks."""
    out = tmp_path_factory.mktemp("revoked") / "revoked-signature.pdf"
    return pyhanko_sign(pdfa, out, home.pki.revoked_p12, home.pki.password, subfilter=fields.SigSeedSubFilter.PADES)


def test_the_namespace_really_cuts_off_the_responders(home: Home, responders: Responders) -> None:
    probe = f"import socket; socket.create_connection(({responders.host!r}, {responders.port}), timeout=3)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0
    cut_off = subprocess.run(["unshare", "--net", sys.executable, "-c", probe], capture_output=True, text=True)
    assert cut_off.returncode != 0 and "Network is unreachable" in cut_off.stderr, cut_off.stderr


def test_offline_verify_of_a_revoked_signature_is_indeterminate(
    home: Home, responders: Responders, revoked_signature: Path
) -> None:
    proc = home.run("verify", str(revoked_signature), "--json", offline=True)
    assert proc.returncode == EXIT_INDETERMINATE, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert (report["valid"], report["status"]) == (False, "indeterminate")
    assert report["revocation"].startswith("unknown: could not be checked (OCSP/CRL unreachable")
    assert report["problems"] and all("revocation could not be checked" in p for p in report["problems"])
    assert "REVOKED" in report["signer"]  # the file is the revoked one: it must not pass as valid


def test_offline_verify_says_so_on_the_terminal(home: Home, responders: Responders, revoked_signature: Path) -> None:
    proc = home.run("verify", str(revoked_signature), offline=True)
    assert proc.returncode == EXIT_INDETERMINATE
    assert proc.stdout.startswith("INDETERMINATE")
    assert "archive: verification indeterminate: cannot check whether the signer certificate is revoked" in (
        proc.stderr
    )


def test_online_verify_of_the_same_signature_is_invalid_revoked(
    home: Home, responders: Responders, revoked_signature: Path
) -> None:
    proc = home.run("verify", str(revoked_signature), "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert (report["valid"], report["status"], report["revocation"]) == (False, "invalid", "revoked")
    assert "signature 'AgencySignature': the signer certificate is revoked" in report["problems"]


@pytest.mark.parametrize("level", ["B-B", "B-LTA"])
def test_signing_offline_is_refused(home: Home, responders: Responders, pdfa: Path, tmp_path: Path, level: str) -> None:
    out = tmp_path / "signed.pdf"
    proc = home.run("sign", str(pdfa), "--output", str(out), "--level", level, offline=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert SIGNING_REFUSED in proc.stderr and "(OCSP/CRL unreachable); not signing" in proc.stderr, proc.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_signing_with_the_revoked_key_is_refused(
    home: Home, responders: Responders, pdfa: Path, tmp_path: Path
) -> None:
    out = tmp_path / "signed.pdf"
    proc = home.run(
        "sign", str(pdfa), "--output", str(out), "--level", "B-B", ARCHIVE_SIGN__PKCS12_PATH=str(home.pki.revoked_p12)
    )
    assert proc.returncode == 1
    assert "the agency certificate is revoked, not signing" in proc.stderr, proc.stderr
    assert SIGNING_REFUSED not in proc.stderr and not out.exists()


def test_signatures_made_with_the_responders_up(home: Home, responders: Responders, pdfa: Path, tmp_path: Path) -> None:
    """Control: with the responders reachable the agency key signs; offline, B-LTA (its revocation data
    embedded) still verifies valid, while B-B (nothing embedded) is indeterminate, not valid."""
    for level, offline_exit in (("B-LTA", 0), ("B-B", EXIT_INDETERMINATE)):
        out = tmp_path / f"{level}.pdf"
        signed = home.run("sign", str(pdfa), "--output", str(out), "--level", level)
        assert signed.returncode == 0, signed.stderr
        offline = home.run("verify", str(out), "--json", offline=True)
        assert offline.returncode == offline_exit, offline.stdout + offline.stderr
        report = json.loads(offline.stdout)
        assert report["status"] == ("valid" if offline_exit == 0 else "indeterminate")
        if level == "B-LTA":
            assert report["valid"] and report["revocation"] == "good (embedded revocation data)"
        online = home.run("verify", str(out), "--json")
        assert online.returncode == 0 and json.loads(online.stdout)["status"] == "valid", online.stdout
