"""Two test PKIs cannot share a responder port: the responders bind it themselves and hand the socket to their
process, so a port another process holds is refused, and while they run no one else can bind it (another
session's responders, even with SO_REUSEADDR/SO_REUSEPORT). Before, a port was checked with a connect and bound
later by the child, and "started" meant "something answers a connect there": possibly another PKI's responders."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from asn1crypto import crl, pem, x509

from pipeline.devtools import init_test_pki
from pipeline.devtools.responders import Responders, bind_listener
from pipeline.sign import SigningError, TestPki
from tests.sign.helpers import free_port


@pytest.fixture
def twins(tmp_path: Path) -> tuple[TestPki, TestPki]:
    """Two test PKIs whose certificates name the same responder port, as two sessions picking one port."""
    port = free_port()
    return init_test_pki(tmp_path / "a", port=port), init_test_pki(tmp_path / "b", port=port)


def test_a_port_held_by_another_pkis_responders_is_refused(twins: tuple[TestPki, TestPki]) -> None:
    first, second = twins
    with Responders(second.directory):
        with pytest.raises(SigningError, match="is already in use by another process"):
            Responders(first.directory).start()
        # the standalone command (aiohttp binds with SO_REUSEADDR) cannot take it either
        cli = subprocess.run(
            [sys.executable, "-m", "pipeline.devtools.responders", "--pki-dir", str(first.directory)],
            capture_output=True, text=True, timeout=120,
        )
        assert cli.returncode != 0 and "address already in use" in cli.stderr.lower(), cli.stderr


def test_nobody_can_bind_the_port_while_the_responders_run(twins: tuple[TestPki, TestPki]) -> None:
    first, _ = twins
    with Responders(first.directory) as running:
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        with probe, pytest.raises(OSError):
            probe.bind((running.host, running.port))
    bind_listener(running.host, running.port).close()  # and the port is free again once they stop


SQUATTER = """
import socket, sys, time
time.sleep(float(sys.argv[3]))
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    sock.bind((sys.argv[1], int(sys.argv[2])))
    sock.listen()
except OSError:
    print("refused", flush=True)
    sys.exit(0)
print("bound", flush=True)
time.sleep(30)
"""


def test_a_process_binding_the_port_while_ours_start_loses(twins: tuple[TestPki, TestPki]) -> None:
    """The race of a free-picked port: another process binds it just after the check, while our child is still
    importing. The port is ours from the check on, so that process loses, and ours answer for our PKI."""
    first, _ = twins
    responders = Responders(first.directory)
    cmd = [sys.executable, "-c", SQUATTER, responders.host, str(responders.port), "1.0"]
    squatter = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        with responders:
            assert squatter.communicate(timeout=60)[0].strip() == "refused"
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            issued = crl.CertificateList.load(opener.open(first.crl_url, timeout=30).read())
            interm = x509.Certificate.load(pem.unarmor(first.intermediate_ca.read_bytes())[2])
            assert issued.issuer == interm.subject and responders.proc is not None and responders.proc.poll() is None
    finally:
        if squatter.poll() is None:
            squatter.kill()
        squatter.wait()
