"""PeakaClient's default HTTP transport: aiohttp moving the bytes under httpx's API.

httpx's own transport (httpcore on anyio) costs ~3 ms of CPU per List request on loopback;
the same exchange through aiohttp costs about a third of that, and a poll cycle is mostly
List requests. The client's API, errors and retries stay httpx's: this only swaps what moves
the bytes, through httpx's documented ``transport=`` seam.

Why not the ``httpx-aiohttp`` package (evaluated, 0.2.0): it maps a refused connection to
``ConnectTimeout`` (so a POST that never left would not be retried, and the error says
"timeout"), sends header names lower-cased, lets yarl re-encode the path (``%3D`` becomes
``=``) and keeps aiohttp's hidden second try of a GET on a dropped connection. This is the
same idea in a page, with httpx's semantics: the URL is sent exactly as httpx built it, names
as given, errors as httpx's own transport raises them, and retries are the client's alone.

Behind a proxy set in the environment (``HTTP(S)_PROXY``/``ALL_PROXY``, minus ``NO_PROXY``),
:func:`default_transport` keeps httpx's own transport, which honours those.
"""

from __future__ import annotations

import urllib.request

import aiohttp
import httpx
from yarl import URL

__all__ = ["AiohttpTransport", "default_transport"]

_HTTP11 = {"http_version": b"HTTP/1.1"}


def default_transport(base_url: str) -> httpx.AsyncBaseTransport | None:
    """The transport for a client of ``base_url``: :class:`AiohttpTransport`, or None
    (httpx's own) when the environment routes ``base_url`` through a proxy."""
    url = httpx.URL(base_url)
    proxies = urllib.request.getproxies_environment()
    proxied = (url.scheme in proxies or "all" in proxies) and not urllib.request.proxy_bypass(
        url.host
    )
    return None if proxied else AiohttpTransport()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An ``httpx.AsyncBaseTransport`` on one ``aiohttp.ClientSession`` (opened on first use,
    in the running loop). Bodies are read whole: Peaka's answers are small JSON documents.

    Pool bounds as httpx's default: 100 connections, idle ones kept 5 s.
    """

    def __init__(self, *, max_connections: int = 100, keepalive_expiry: float = 5.0) -> None:
        self._limit = max_connections
        self._keepalive = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._limit,
                keepalive_timeout=self._keepalive,
                ssl=httpx.create_ssl_context(),  # httpx's CA bundle and defaults
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,  # httpx decodes, as with its own transport
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            # aiohttp quietly sends a GET/DELETE again when the connection drops; the client's
            # RetryPolicy decides (and counts) retries. No public switch for it: tests count
            # the requests of a dropped connection and notice if this stops working.
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._open()
        timeout = request.extensions.get("timeout", {})
        body = await request.aread()
        try:
            async with session.request(
                request.method,
                URL(str(request.url), encoded=True),  # exactly as httpx quoted it
                headers=[
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw
                ],
                data=body or None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            ) as response:
                content = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _mapped(exc, request) from exc
        extensions = dict(_HTTP11)
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("latin-1")
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
            stream=httpx.ByteStream(content),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _mapped(cause: aiohttp.ClientError | TimeoutError, request: httpx.Request) -> Exception:
    """The httpx error httpx's own transport raises for what aiohttp raised."""
    message = str(cause) or type(cause).__name__
    if isinstance(cause, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(cause, aiohttp.ServerTimeoutError | TimeoutError):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message, request=request)
    if isinstance(cause, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
        return httpx.ReadError(message, request=request)
    if isinstance(cause, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(message, request=request)
    return httpx.TransportError(message, request=request)
