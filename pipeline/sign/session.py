"""One HTTP session and one set of fetchers for all of a signature's requests to the responders and the TSA.

Measured on 8 PAdES B-LTA signatures with the TEST PKI (``cProfile``, 0.86 s wall and 0.46 CPU s a document):
pyHanko opened a new aiohttp session for every revocation fetch and every time-stamp request, five a document,
each loading the CA bundle into a new SSL context (28 ms each: 0.14 s a document); and the check before signing
and the signing context each fetched the same OCSP answer and CRL (seven requests a document, counted in the
responders' log; four now). Here the session, its SSL context and the fetchers' answers are shared by every step
of one signature. Kept from one document to the next: the SSL context (the CA bundle) and
the TSA's sample token that pyHanko requests only to size the room for a time-stamp (:class:`TimeStamper`), never
a revocation answer: each document's revocation check asks the responders afresh.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import aiohttp
import certifi
from asn1crypto import cms
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator.fetchers import Fetchers
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

_SSL: list[ssl.SSLContext] = []  # built once per process (pyHanko's own default: certifi's bundle)


def _ssl_context() -> ssl.SSLContext:
    if not _SSL:
        _SSL.append(ssl.create_default_context(cafile=certifi.where()))
    return _SSL[0]


@dataclass(frozen=True)
class ResponderSession:
    http: aiohttp.ClientSession
    fetchers: Fetchers


@asynccontextmanager
async def responder_session() -> AsyncIterator[ResponderSession]:
    """The session of one signature, closed in the event loop that opened it."""
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=_ssl_context()))
    try:
        yield ResponderSession(http, AIOHttpFetcherBackend(http).get_fetchers())
    finally:
        await http.close()


# Measured again after this long: a renewed TSA or agency certificate may make a token or a signature larger.
KEEP_S = 600.0
K = TypeVar("K")
V = TypeVar("V")


async def remembered(kept: dict[K, tuple[float, V]], key: K, measure: Callable[[], Awaitable[V]]) -> V:
    """``measure()``'s answer for ``key``, from ``kept`` while it is younger than :data:`KEEP_S`."""
    found = kept.get(key)
    if found is None or time.monotonic() - found[0] > KEEP_S:
        found = kept[key] = (time.monotonic(), await measure())
    return found[1]


_SAMPLES: dict[tuple[str, str], tuple[float, cms.ContentInfo]] = {}


class TimeStamper(HTTPTimeStamper):
    """pyHanko's TSA client, with the sample token it sizes a time-stamp's room by kept per process (TSA URL and
    digest): a new client per document asked the TSA for one more token each time (three requests a B-LTA
    signature instead of two). The sample is never put in a document."""

    async def async_dummy_response(self, md_algorithm) -> cms.ContentInfo:
        sample = super().async_dummy_response
        return await remembered(_SAMPLES, (self.url, str(md_algorithm)), lambda: sample(md_algorithm))
