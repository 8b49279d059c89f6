"""The simulator over real HTTP: aiohttp routes for the export API and presigned downloads."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType

from aiohttp import web

from bot.simulator import _api
from bot.simulator._content import content_type, render_part
from bot.simulator._errors import SimulatorError
from bot.simulator._faults import Fault, draw_fault
from bot.simulator._presign import LinkRejected
from bot.simulator._state import OPERATIONS, SimKey, Simulator

__all__ = ["SimulatorServer"]

log = logging.getLogger(__name__)
_FAULT = web.RequestKey("fault", Fault)

_PROJECT = "/api/v1/data/projects/{projectId}"
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_GATEWAY_PAGE = "<html><head><title>{0}</title></head><body><h1>{0}</h1></body></html>\n"
_REASONS = {502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable",
            504: "504 Gateway Time-out"}  # fmt: skip


class SimulatorServer:
    """Serves a Simulator on ``host:port`` (port 0 picks a free one) until closed.

    ``async with SimulatorServer(sim) as server:`` then talk to ``server.base_url``
    (``http://127.0.0.1:PORT/api/v1``). Presigned file links point at ``/files/...`` on the
    same server, under the host name the client used.

    ``sim.counters[operationId]`` counts every request routed to an operation (including
    ``download``), before authentication and before faults: rejected and faulted requests
    count too. Unknown paths and wrong methods are not counted.
    """

    def __init__(self, sim: Simulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sim = sim
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None

    @property
    def origin(self) -> str:
        """``http://HOST:PORT``: where presigned file links point."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL, e.g. ``http://127.0.0.1:8080/api/v1``."""
        return f"{self.origin}/api/v1"

    async def start(self) -> SimulatorServer:
        if self._runner is not None:
            raise RuntimeError("SimulatorServer is already started")
        self._closing = asyncio.Event()
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get(f"{_PROJECT}/exports", self._list, name="listExports")
        app.router.add_get(f"{_PROJECT}/exports/{{exportId}}", self._read, name="readExport")
        app.router.add_delete(f"{_PROJECT}/exports/{{exportId}}", self._cancel, name="cancelExport")
        app.router.add_post(
            f"{_PROJECT}/queries/{{queryId}}/exports", self._export_query, name="exportQuery"
        )
        app.router.add_post(
            f"{_PROJECT}/catalogs/{{catalogId}}/schemas/{{schemaName}}/tables/{{tableName}}/exports",
            self._export_table,
            name="exportTable",
        )
        app.router.add_get("/files/{jobId}/{name}", self._download, name="download")
        app.router.add_get("/healthz", self._health)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        return self

    async def close(self) -> None:
        """Stop serving; requests left hanging by a timeout fault are released first."""
        if self._closing is not None:
            self._closing.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> SimulatorServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "running" if self._runner is not None else "stopped"
        return f"SimulatorServer({self.base_url}, {state})"

    # --- plumbing ---------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        operation = request.match_info.route.name
        if operation not in OPERATIONS:
            try:
                return await handler(request)
            except web.HTTPException as exc:  # unknown path, wrong method, body too large
                return _http_error(request, exc)
        self.sim.counters[operation] += 1
        faults = self.sim.faults
        fault = Fault.NONE
        try:
            faults.check()
        except ValueError as exc:  # a test set an impossible knob: say so on every request
            return _json_error(500, f"Invalid simulator fault configuration: {exc}")
        if faults.affects(operation):
            if faults.latency_seconds > 0:
                await self._pause(faults.latency_seconds)
            fault, status = draw_fault(faults, self.sim.fault_rng, operation)
            early = await self._early_fault(request, fault, status)
            if early is not None:
                return early
        request[_FAULT] = fault
        try:
            response = await handler(request)
        except SimulatorError as exc:
            response = _json_error(exc.status_code, exc.message)
        except LinkRejected as exc:
            response = web.Response(
                status=exc.status_code,
                text=exc.to_xml(request.path),
                content_type="application/xml",
            )
        except web.HTTPException as exc:
            response = _http_error(request, exc)
        except Exception:
            log.exception("simulator bug while handling %s", operation)
            response = _json_error(500, "Internal simulator error (a bug: see the server log)")
        if fault is Fault.MALFORMED and isinstance(response, web.Response):
            return _malformed(response)
        return response

    async def _early_fault(
        self, request: web.Request, fault: Fault, status: int
    ) -> web.StreamResponse | None:
        faults = self.sim.faults
        if fault in (Fault.DROP, Fault.TIMEOUT):
            if fault is Fault.TIMEOUT:
                await self._pause(faults.timeout_seconds)
            if request.transport is not None:
                request.transport.close()  # no status line, no headers: the client sees EOF
            return web.Response(status=499)
        if fault is Fault.RATE_LIMIT:
            headers = {}
            wait = faults.retry_after
            if wait is not None:
                headers["Retry-After"] = f"{wait:g}"
            message = "Rate limit exceeded" + (f"; retry after {wait:g} seconds" if wait else "")
            response = _json_error(429, message)
            response.headers.update(headers)
            return response
        if fault is Fault.ERROR:
            if status in _REASONS:  # what a gateway in front of the API answers: HTML
                page = _GATEWAY_PAGE.format(_REASONS[status])
                return web.Response(status=status, text=page, content_type="text/html")
            return _json_error(status, "Internal Server Error (simulated fault)")
        return None

    async def _pause(self, seconds: float) -> None:
        """Sleep in real time, cut short when the server closes."""
        assert self._closing is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    async def _presize(self, project_id: str) -> None:
        """Render files of newly finished jobs in a thread: a big one takes a second or two."""
        jobs = _api.jobs_to_size(self.sim, project_id)
        if jobs:
            await asyncio.to_thread(lambda: [self.sim.sizes(job) for job in jobs])

    def _key_and_project(self, request: web.Request) -> tuple[SimKey, str]:
        key = _api.authenticate(self.sim, request.headers.get("Authorization"))
        project_id = request.match_info["projectId"]
        _api.authorize(self.sim, key, project_id)
        return key, project_id

    # --- handlers ---------------------------------------------------------------------------

    async def _list(self, request: web.Request) -> web.StreamResponse:
        key, project_id = self._key_and_project(request)
        await self._presize(project_id)
        jobs = _api.list_exports(
            self.sim,
            key,
            project_id,
            status=request.query.getall("status", []),
            limit=request.query.get("limit"),
            created_before=request.query.get("createdBefore"),
        )
        return web.json_response(jobs)

    async def _read(self, request: web.Request) -> web.StreamResponse:
        key, project_id = self._key_and_project(request)
        await self._presize(project_id)
        origin = f"{request.scheme}://{request.host}"
        job = _api.read_export(self.sim, key, project_id, request.match_info["exportId"], origin)
        return web.json_response(job)

    async def _cancel(self, request: web.Request) -> web.StreamResponse:
        key, project_id = self._key_and_project(request)
        _api.cancel_export(self.sim, key, project_id, request.match_info["exportId"])
        return web.Response(status=204)

    async def _export_query(self, request: web.Request) -> web.StreamResponse:
        return await self._export(request, request.match_info["queryId"])

    async def _export_table(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        return await self._export(
            request, f"{info['catalogId']}/{info['schemaName']}/{info['tableName']}"
        )

    async def _export(self, request: web.Request, source_key: str) -> web.StreamResponse:
        key, project_id = self._key_and_project(request)
        body = await request.read()
        headers = request.headers
        created = _api.export_source(
            self.sim,
            key,
            project_id,
            source_key,
            body,
            client_source=headers.get("X-Trino-Source") or headers.get("User-Agent"),
        )
        return web.json_response(created, status=202)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        spec, part = _api.open_download(self.sim, info["jobId"], info["name"], request.query)
        job = self.sim.jobs[spec.job_id]
        sizes = job.file_sizes
        if sizes is None:
            sizes = await asyncio.to_thread(self.sim.sizes, job)
        response = web.StreamResponse(
            headers={
                "Content-Type": content_type(spec),
                "Content-Length": str(sizes[part.index]),
                "Content-Disposition": f'attachment; filename="{part.name}"',
            }
        )
        await response.prepare(request)
        if request.method == "HEAD":
            return response
        truncate = request.get(_FAULT) is Fault.MALFORMED
        for chunk in render_part(spec, part):
            if truncate:  # a download cut short: half a chunk, then the connection closes
                await response.write(chunk[: len(chunk) // 2])
                if request.transport is not None:
                    request.transport.close()
                return response
            await response.write(chunk)
        await response.write_eof()
        return response

    async def _health(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok"})


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


def _http_error(request: web.Request, exc: web.HTTPException) -> web.Response:
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        response = _json_error(
            405, f"Method {request.method} is not allowed on {request.path}; allowed: {allowed}"
        )
        response.headers["Allow"] = allowed
        return response
    if isinstance(exc, web.HTTPNotFound):
        return _json_error(404, f"No such endpoint: {request.method} {request.path}")
    return _json_error(exc.status, exc.text or exc.reason)


def _malformed(response: web.Response) -> web.Response:
    body = response.body if isinstance(response.body, bytes) else b""
    cut = body[: max(1, len(body) // 2)] if body else b'{"id": "'
    return web.Response(status=200, body=cut, content_type="application/json")
