"""Whether the engine can serve: the model worker runs and the database answers.

The engine answers it (``Engine.health``); ``bot/ops/health_server.py`` serves it as ``/healthz``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from engine.generation.contract import Generator
from engine.store import Store

HEALTH_TIMEOUT = 2.0  # seconds the database gets to answer a health check


@dataclass(frozen=True)
class Health:
    healthy: bool
    # What was checked, as the health endpoint shows it: model, queue_depth, generator, database.
    details: dict = field(default_factory=dict)


async def check_health(generator: Generator, store: Store) -> Health:
    details: dict = {"model": generator.version, "queue_depth": generator.queue_depth}
    healthy = True
    if not generator.running:
        healthy = False
        details["generator"] = "stopped"
    else:
        details["generator"] = "running"
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            await store.ping()
        details["database"] = "ok"
    except Exception as exc:  # closed, locked past the timeout, disk gone: all mean unhealthy
        healthy = False
        details["database"] = f"failing ({type(exc).__name__})"
    return Health(healthy, details)
