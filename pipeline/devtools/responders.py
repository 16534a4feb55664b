"""Serve the TEST PKI's OCSP responder, CRLs, certificate repository and TSA on loopback.

Run as ``python -m pipeline.devtools.responders --pki-dir DIR [--host 127.0.0.1] [--port N]`` (blocking).
The certificates name these URLs, so host and port default to the ones chosen by
:func:`pipeline.sign.init_test_pki`; a different port is refused because validators would look
elsewhere. :class:`Responders` starts the same server as a child process (tests, services manager).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from pipeline.devtools.testpki import ARCH, load_arch, load_test_pki
from pipeline.sign.model import SigningError


def responder_urls(pki_dir: Path) -> dict[str, str]:
    """The URLs the test PKI's certificates point to: ``base``, ``tsa``, ``ocsp``, ``crl``."""
    pki = load_test_pki(Path(pki_dir))
    return {"base": pki.responder_url, "tsa": pki.tsa_url, "ocsp": pki.ocsp_url, "crl": pki.crl_url}


def bound_address(pki_dir: Path) -> tuple[str, int]:
    parsed = urllib.parse.urlsplit(load_test_pki(Path(pki_dir)).responder_url)
    return parsed.hostname or "127.0.0.1", parsed.port or 80


def build_app(pki_dir: Path):  # -> aiohttp.web.Application
    from certomancer.integrations.aiohttp_animator import build_animator_app
    from certomancer.registry import ArchLabel

    arch = load_arch(Path(pki_dir))
    return build_animator_app({ArchLabel(ARCH): arch}, with_web_ui=False, allow_time_override=False)


def serve(pki_dir: Path, host: str | None = None, port: int | None = None) -> None:
    """Serve until interrupted. Only loopback addresses are accepted: this is TEST material."""
    from aiohttp import web

    expected_host, expected_port = bound_address(pki_dir)
    host, port = host or expected_host, port or expected_port
    if port != expected_port:
        raise SigningError(f"the test PKI in {pki_dir} expects its responders on port {expected_port}, not {port}")
    if not (host.startswith("127.") or host in ("localhost", "::1")):
        raise SigningError(f"refusing to serve TEST PKI responders on non-loopback address {host}")
    web.run_app(build_app(pki_dir), host=host, port=port, print=None, access_log=None, handle_signals=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.devtools.responders", description=__doc__.splitlines()[0])
    parser.add_argument("--pki-dir", type=Path, required=True)
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        serve(args.pki_dir, args.host, args.port)
    except SigningError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def wait_listening(host: str, port: int, timeout_s: float = 20.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SigningError(f"test PKI responders exited with code {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SigningError(f"test PKI responders did not start on {host}:{port} within {timeout_s:.0f}s")


class Responders:
    """The responders as a child process: ``with Responders(pki_dir): ...`` or ``start()``/``stop()``."""

    def __init__(self, pki_dir: Path, log_file: Path | None = None) -> None:
        self.pki_dir = Path(pki_dir)
        self.host, self.port = bound_address(self.pki_dir)
        self.log_file = log_file
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 20.0) -> Responders:
        """Start them and wait until they listen. A port something else already listens on is refused: the
        signer would otherwise ask that other process (another PKI's responders) about our certificates."""
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                raise SigningError(f"test PKI responders: {self.host}:{self.port} is already in use by another "
                                   "process")
        except OSError:
            pass  # nothing listens there: ours may
        cmd = [sys.executable, "-m", "pipeline.devtools.responders", "--pki-dir", str(self.pki_dir)]
        log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        env = {**os.environ, "PYTHONPATH": _pythonpath()}
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            wait_listening(self.host, self.port, timeout_s, self.proc)
        except SigningError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> Responders:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _pythonpath() -> str:
    root = str(Path(__file__).resolve().parents[2])
    existing = os.environ.get("PYTHONPATH", "")
    return root + (os.pathsep + existing if existing else "")


if __name__ == "__main__":
    sys.exit(main())
