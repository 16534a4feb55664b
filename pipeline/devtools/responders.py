"""Serve the TEST PKI's OCSP responder, CRLs, certificate repository and TSA on loopback.

Run as ``python -m pipeline.devtools.responders --pki-dir DIR [--host 127.0.0.1] [--port N]`` (blocking).
The certificates name these URLs, so host and port default to the ones chosen by
:func:`pipeline.sign.init_test_pki`; a different port is refused because validators would look
elsewhere. :class:`Responders` starts the same server as a child process (tests, services manager): it binds
the port itself and hands the listening socket over, so a port another process holds is refused, and once
started nobody else can answer there. Test faults: ``--delay S`` (every answer S seconds late, as from a
loaded machine) and ``--ocsp-down`` (OCSP answers HTTP 503, CRLs are still served).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
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


def build_app(pki_dir: Path, delay_s: float = 0.0, ocsp_down: bool = False):  # -> aiohttp.web.Application
    """The certomancer app; ``delay_s`` and ``ocsp_down`` are the test faults of the module docstring."""
    from aiohttp import web
    from certomancer.integrations.aiohttp_animator import build_animator_app
    from certomancer.registry import ArchLabel

    _parse_keys_once()
    arch = load_arch(Path(pki_dir))
    app = build_animator_app({ArchLabel(ARCH): arch}, with_web_ui=False, allow_time_override=False)
    if delay_s > 0 or ocsp_down:

        @web.middleware
        async def faults(request: web.Request, handler):
            await asyncio.sleep(delay_s)  # before certomancer reads its clock: the answer is dated late too
            if ocsp_down and "/ocsp/" in request.path:
                raise web.HTTPServiceUnavailable(text="TEST fault: OCSP responder down")
            return await handler(request)

        app.middlewares.append(faults)
    return app


def _parse_keys_once() -> None:
    """certomancer parses its CA's and TSA's key for every answer it signs (46 ms each, four a B-LTA signature, the
    responders' largest cost): its crypto backend, made to use :func:`pipeline.sign.keys.sign_parsed`."""
    from certomancer import crypto_utils

    from pipeline.sign.keys import sign_parsed

    class ParsedKeyBackend(crypto_utils.PycaCryptographyBackend):
        def generic_sign(self, private_key, tbs_bytes, sd_algo):
            try:
                mechanism, digest = sd_algo.signature_algo, sd_algo.hash_algo
            except ValueError:
                return super().generic_sign(private_key, tbs_bytes, sd_algo)
            signature = sign_parsed(private_key.dump(), mechanism, digest, tbs_bytes)
            return signature if signature is not None else super().generic_sign(private_key, tbs_bytes, sd_algo)

    crypto_utils.CRYPTO_BACKEND = ParsedKeyBackend()


def serve(
    pki_dir: Path,
    host: str | None = None,
    port: int | None = None,
    *,
    fd: int | None = None,
    delay_s: float = 0.0,
    ocsp_down: bool = False,
    access_log: bool = False,
) -> None:
    """Serve until interrupted. Only loopback addresses are accepted: this is TEST material. ``fd``: a
    listening socket bound by the parent (:class:`Responders`), used instead of binding here. ``access_log``:
    one line per request on stdout ("POST /archive-test/tsa/tsa HTTP/1.1 200")."""
    import logging

    from aiohttp import web

    expected_host, expected_port = bound_address(pki_dir)
    sock = socket.socket(fileno=fd) if fd is not None else None
    if sock is not None:
        host, port = sock.getsockname()[:2]
    host, port = host or expected_host, port or expected_port
    if port != expected_port:
        raise SigningError(f"the test PKI in {pki_dir} expects its responders on port {expected_port}, not {port}")
    if not (host.startswith("127.") or host in ("localhost", "::1")):
        raise SigningError(f"refusing to serve TEST PKI responders on non-loopback address {host}")
    app = build_app(pki_dir, delay_s, ocsp_down)
    where = {"sock": sock} if sock is not None else {"host": host, "port": port}
    logger = None
    if access_log:
        logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s", force=True)
        logger = logging.getLogger("aiohttp.access")
    web.run_app(app, **where, print=None, access_log=logger, access_log_format="%r %s", handle_signals=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.devtools.responders", description=__doc__.splitlines()[0])
    parser.add_argument("--pki-dir", type=Path, required=True)
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--fd", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--delay", type=float, default=0.0, help="TEST fault: answer every request this many s late")
    parser.add_argument("--ocsp-down", action="store_true", help="TEST fault: OCSP answers 503, CRLs still served")
    parser.add_argument("--access-log", action="store_true", help="one line per request on stdout")
    args = parser.parse_args(argv)
    try:
        serve(args.pki_dir, args.host, args.port, fd=args.fd, delay_s=args.delay, ocsp_down=args.ocsp_down,
              access_log=args.access_log)
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


def bind_listener(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``, or :class:`SigningError` if another process has bound it.

    SO_REUSEADDR (as aiohttp sets it) only lets a restart pass connections of ours in TIME_WAIT; Linux still
    refuses a port another socket listens on, and, once this one listens, everyone else's bind of that port."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise SigningError(f"test PKI responders: {host}:{port} is already in use by another process ({exc.strerror})"
                           ) from exc
    return sock


def wait_serving(base_url: str, proc: subprocess.Popen, timeout_s: float = 20.0, delay_s: float = 0.0) -> None:
    """Wait until ``proc`` answers HTTP at ``base_url`` (any status: the socket is ours alone)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SigningError(f"test PKI responders exited with code {proc.returncode}")
        try:
            opener.open(base_url + "/", timeout=2 + delay_s).close()
            return
        except urllib.error.HTTPError:
            return  # 404 for "/": the server answers
        except OSError:
            time.sleep(0.1)
    raise SigningError(f"test PKI responders did not answer at {base_url} within {timeout_s:.0f}s")


class Responders:
    """The responders as a child process: ``with Responders(pki_dir): ...`` or ``start()``/``stop()``.
    ``delay_s``/``ocsp_down``: the test faults of the module docstring. With a ``log_file``, every request is
    logged there too (one line each)."""

    def __init__(
        self, pki_dir: Path, log_file: Path | None = None, *, delay_s: float = 0.0, ocsp_down: bool = False
    ) -> None:
        self.pki_dir = Path(pki_dir)
        self.host, self.port = bound_address(self.pki_dir)
        self.log_file = log_file
        self.delay_s, self.ocsp_down = delay_s, ocsp_down
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 60.0) -> Responders:
        """Bind the port here and hand the socket to the child, then wait until it answers. A port another
        process holds is refused: the signer would otherwise ask that process (another PKI's responders, or
        anything) about our certificates; and with the socket held from the start, no check-then-bind race.
        The timeout is generous: on a loaded machine the child's imports alone take many seconds."""
        sock = bind_listener(self.host, self.port)
        cmd = [sys.executable, "-m", "pipeline.devtools.responders", "--pki-dir", str(self.pki_dir),
               "--fd", str(sock.fileno()), "--delay", str(self.delay_s), *(["--ocsp-down"] if self.ocsp_down else []),
               *(["--access-log"] if self.log_file else [])]
        log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        env = {**os.environ, "PYTHONPATH": _pythonpath()}
        try:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, pass_fds=[sock.fileno()])
        finally:
            sock.close()  # the child holds it now
            if log is not subprocess.DEVNULL:
                log.close()
        try:
            wait_serving(load_test_pki(self.pki_dir).responder_url, self.proc, timeout_s, self.delay_s)
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
