"""/docs: the OpenAPI document browsable with Swagger UI 5 (OpenAPI 3.1), served from the files bundled in the
fastapi-offline package (never a CDN: the service runs on networks that reach none, and a CDN script would run
with the user's session). Signed-in callers only, like /openapi.json. Its own Content-Security-Policy: scripts
from this origin only; Swagger UI sets inline styles, so only ``style-src`` admits 'unsafe-inline' here."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response

from pipeline.entry.api.auth import ActorDep

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
ASSETS = Path(str(files("fastapi_offline") / "static"))
SERVED = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript", "favicon.png": "image/png"}
INIT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
                               presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout"});
});
"""
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Archive API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"><link rel="icon" href="/docs/assets/favicon.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script></body></html>
"""

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def docs(_: ActorDep) -> HTMLResponse:
    return HTMLResponse(PAGE, headers=HEADERS)


@router.get("/docs/assets/{name}")
def asset(_: ActorDep, name: Annotated[str, PathParam(max_length=40)]) -> Response:
    if name == "init.js":
        return Response(INIT, media_type="text/javascript", headers=HEADERS)
    if name not in SERVED:
        return Response(status_code=404)
    return FileResponse(ASSETS / name, media_type=SERVED[name], headers=HEADERS)
