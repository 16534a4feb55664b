"""`archive serve`: the REST API (uvicorn, one process). Listens on loopback unless told otherwise; on any other
address it speaks plain HTTP: put a TLS reverse proxy in front of it."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.core.net import is_loopback
from pipeline.entry.cli.common import err, settings


def serve(host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
          port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
          insecure_cookie: Annotated[bool, typer.Option(
              "--insecure-cookie", help="Session cookie without Secure (a browser on plain http other than "
                                        "localhost; never behind a TLS proxy).")] = False) -> None:
    """Serve the REST API (OpenAPI at /openapi.json and /docs, after sign-in). The session cookie is Secure
    (__Host-) whatever the address: a TLS proxy on the same host forwards to loopback, and browsers treat
    http://localhost as secure."""
    import uvicorn

    from pipeline.entry.api import create_app

    loopback = is_loopback(host)
    app = create_app(settings(), cookie_secure=not insecure_cookie)
    shown = f"[{host}]" if ":" in host else host
    err.print(f"archive API on http://{shown}:{port} (OpenAPI: /docs after sign-in; Ctrl-C stops it)", markup=False)
    if not loopback:
        err.print("plain HTTP on a non-loopback address: put a TLS reverse proxy in front of it (session cookies "
                  "are marked Secure)", markup=False)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, server_header=False,
                timeout_graceful_shutdown=30)
