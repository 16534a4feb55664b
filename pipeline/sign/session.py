"""One HTTP session and one set of fetchers for all of a signature's requests to the responders and the TSA.

Measured on 8 PAdES B-LTA signatures with the TEST PKI (``cProfile``, 0.86 s wall and 0.46 CPU s a document):
pyHanko opened a new aiohttp session for every revocation fetch and every time-stamp request, five a document,
each loading the CA bundle into a new SSL context (28 ms each: 0.14 s a document); and the check before signing,
the signing context and the time-stamps' validation each fetched the same OCSP answers and CRLs again (eight CRL
downloads a document for two distinct CRLs). Here the session, its SSL context and the fetchers' answers are
shared by every step of one signature. Kept from one document to the next: the SSL context (the CA bundle) and
the TSA's sample token that pyHanko requests only to size the room for a time-stamp (:class:`TimeStamper`), never
a revocation answer: each document's revocation check asks the responders afresh.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

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
_SAMPLES: dict[tuple[str, str], tuple[float, cms.ContentInfo]] = {}


class TimeStamper(HTTPTimeStamper):
    """pyHanko's TSA client, with the sample token it sizes a time-stamp's room by kept per process (TSA URL and
    digest): a new client per document asked the TSA for one more token each time (three requests a B-LTA
    signature instead of two). The sample is never put in a document."""

    async def async_dummy_response(self, md_algorithm) -> cms.ContentInfo:
        key = (self.url, str(md_algorithm))
        kept = _SAMPLES.get(key)
        if kept is None or time.monotonic() - kept[0] > KEEP_S:
            kept = _SAMPLES[key] = (time.monotonic(), await super().async_dummy_response(md_algorithm))
        return kept[1]
