"""``GET /healthz`` (200 or 503, JSON) and ``GET /metrics`` (Prometheus text) over aiohttp, on a local
port that is off unless ``COPYBOT_METRICS_PORT`` is set. The engine keeps the counts and answers
``health()``; this module only serves them."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from engine import Engine, UserError

logger = logging.getLogger(__name__)


class MetricsServer:
    def __init__(self, engine: Engine, host: str, port: int,
                 stopping: Callable[[], bool] = lambda: False) -> None:
        self.engine = engine
        self.host = host
        self.port = port
        self.stopping = stopping
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError as exc:
            await runner.cleanup()
            raise UserError(f"Cannot serve metrics on {self.host}:{self.port} ({exc.strerror}); set "
                            "COPYBOT_METRICS_PORT to a free port, or unset it.") from None
        self._runner = runner
        self.host, self.port = runner.addresses[0][:2]  # as bound (port 0: the one chosen)
        logger.info("health and metrics on http://%s:%d/healthz and /metrics", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        if self.stopping():
            return web.json_response({"status": "stopping"}, status=503)
        health = await self.engine.health()
        body = dict(health.details, status="ok" if health.healthy else "unhealthy")
        return web.json_response(body, status=200 if health.healthy else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=self.engine.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def start_metrics_server(engine: Engine,
                               stopping: Callable[[], bool] = lambda: False) -> MetricsServer | None:
    """The server when ``COPYBOT_METRICS_PORT`` is set, started; ``None`` when it is off."""
    if engine.config.metrics_port is None:
        return None
    server = MetricsServer(engine, engine.config.metrics_host, engine.config.metrics_port, stopping)
    await server.start()
    return server
