"""Security headers on every page and static file (pure ASGI middleware, so redirects and error pages get them
too). The Content-Security-Policy allows no inline script or style at all: every script and style is a file
under /static. Only ``img-src`` admits ``data:`` (nothing uses it yet; small icons may). A response that sets its
own CSP keeps it (the chart SVG does). The API (/api/…, JSON and file downloads) and the Swagger page (/docs,
which needs its CDN and inline script) are left as they are."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
       "form-action 'self'; base-uri 'none'; object-src 'none'")
HEADERS = {"content-security-policy": CSP, "x-frame-options": "DENY", "x-content-type-options": "nosniff",
           "referrer-policy": "same-origin"}
API_PREFIX = "/api/"
EXEMPT = frozenset({"/docs", "/openapi.json", "/metrics", "/healthz", "/readyz"})


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.startswith(API_PREFIX) or path in EXEMPT:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.decode("latin-1").lower() for k, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in HEADERS.items() if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
