"""Prometheus metrics and a health check, on a local port that is off unless configured.

The registry belongs to a ``Metrics`` object the engine holds, not to prometheus-client's global
default registry: two engines in one process (tests, a CLI next to the bot) never share counts.

    copybot_requests_total{command, outcome}      commands handled (outcome: ok, user_error, busy,
                                                  error, cancelled)
    copybot_generation_seconds                    one /copy's writing time, queue wait included
    copybot_model_call_seconds                    one batch through the model
    copybot_queue_depth                           /copy requests waiting for the model
    copybot_tokens_generated_total                tokens the model generated
    copybot_sequences_generated_total             completions the model returned
    copybot_feedback_total{verdict, change}       approvals/rejections added or withdrawn
    copybot_finetune_runs_total{outcome}          fine-tune runs, by how they ended (the run status)
    copybot_errors_total{component}               unexpected errors (command, generator, announce, ...)
    copybot_model_info{version}                   1 for the model version now answering
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from engine.errors import BusyError, UserError

if TYPE_CHECKING:
    from engine.engine import Engine
    from engine.generation import Generator

logger = logging.getLogger(__name__)

GENERATION_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)
HEALTH_TIMEOUT = 2.0  # seconds the database gets to answer a health check


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("copybot_requests", "Commands handled, by command and outcome.",
                                ["command", "outcome"], registry=r)
        self.generation_seconds = Histogram(
            "copybot_generation_seconds", "Time to write one /copy request's variants, queue wait included.",
            buckets=GENERATION_BUCKETS, registry=r)
        self.model_call_seconds = Histogram(
            "copybot_model_call_seconds", "Time of one batch through the model.",
            buckets=GENERATION_BUCKETS, registry=r)
        self.tokens = Counter("copybot_tokens_generated", "Tokens the model generated.", registry=r)
        self.sequences = Counter("copybot_sequences_generated", "Completions the model returned.",
                                 registry=r)
        self.feedback = Counter("copybot_feedback", "Approvals and rejections added or withdrawn.",
                                ["verdict", "change"], registry=r)
        self.finetune_runs = Counter("copybot_finetune_runs", "Fine-tune runs, by outcome.",
                                     ["outcome"], registry=r)
        self.errors = Counter("copybot_errors", "Unexpected errors, by component.", ["component"],
                              registry=r)
        self._generator: Generator | None = None
        # Read at scrape time, so never stale.
        self.queue_depth = Gauge("copybot_queue_depth", "/copy requests waiting for the model.",
                                 registry=r)
        self.queue_depth.set_function(lambda: self._generator.queue_depth if self._generator else 0)
        r.register(_ModelInfoCollector(self))

    def watch(self, generator: Generator) -> None:
        """Report this generator's queue depth and model version at every scrape."""
        self._generator = generator

    @contextmanager
    def count_request(self, command: str) -> Iterator[None]:
        """Count one command by how it ended."""
        outcome = "ok"
        try:
            yield
        except BusyError:
            outcome = "busy"
            raise
        except UserError:
            outcome = "user_error"
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except Exception:
            outcome = "error"
            self.errors.labels("command").inc()
            raise
        finally:
            self.requests.labels(command, outcome).inc()

    def observe_batch(self, seconds: float, completions: list[str]) -> None:
        self.model_call_seconds.observe(seconds)
        self.sequences.inc(len(completions))
        tokens = getattr(completions, "tokens", None)
        if tokens:
            self.tokens.inc(tokens)

    def count_feedback(self, verdict: str, added: bool) -> None:
        self.feedback.labels(verdict, "added" if added else "withdrawn").inc()

    def count_finetune(self, outcome: str) -> None:
        """For the learning loop: one fine-tune run ended with ``outcome`` (its status)."""
        self.finetune_runs.labels(outcome).inc()

    def count_error(self, component: str) -> None:
        self.errors.labels(component).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _ModelInfoCollector:
    """The version label changes when the model does: a labelled gauge with a function per label
    cannot say that, so this one is read at scrape time."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self):
        generator = self.metrics._generator
        info = GaugeMetricFamily("copybot_model_info", "The model version now answering.",
                                 labels=["version"])
        if generator is not None:
            info.add_metric([generator.version], 1)
        yield info


async def health(engine: Engine) -> tuple[bool, dict]:
    """Whether the engine can serve: the model worker runs and the database answers."""
    report: dict = {"model": engine.generator.version, "queue_depth": engine.generator.queue_depth}
    healthy = True
    if not engine.generator.running:
        healthy = False
        report["generator"] = "stopped"
    else:
        report["generator"] = "running"
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            async with engine.store.db.execute("SELECT 1") as cursor:
                await cursor.fetchone()
        report["database"] = "ok"
    except Exception as exc:  # closed, locked past the timeout, disk gone: all mean unhealthy
        healthy = False
        report["database"] = f"failing ({type(exc).__name__})"
    return healthy, report


class MetricsServer:
    """``GET /healthz`` (200 or 503, JSON) and ``GET /metrics`` (Prometheus text) over aiohttp."""

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
        healthy, report = await health(self.engine)
        report["status"] = "ok" if healthy else "unhealthy"
        return web.json_response(report, status=200 if healthy else 503)

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
