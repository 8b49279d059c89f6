"""The Peaka client's default transport: aiohttp, unless the environment sets a proxy."""

from __future__ import annotations

import pytest

from bot.peaka._transport import AiohttpTransport, default_transport


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_aiohttp_without_a_proxy() -> None:
    assert isinstance(default_transport("https://partner.peaka.studio/api/v1"), AiohttpTransport)


def test_httpx_own_transport_behind_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert default_transport("https://partner.peaka.studio/api/v1") is None
    assert isinstance(default_transport("http://127.0.0.1:8080/api/v1"), AiohttpTransport)


def test_no_proxy_hosts_keep_aiohttp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "peaka.studio,localhost")
    assert isinstance(default_transport("https://partner.peaka.studio/api/v1"), AiohttpTransport)
    assert default_transport("https://api.elsewhere.example/api/v1") is None
