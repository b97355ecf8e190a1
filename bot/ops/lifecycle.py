"""Running the bot's services until SIGTERM (or Ctrl-C), then stopping them in order.

A service is a coroutine that serves until it is cancelled (``run_slack``, ``run_discord``,
``run_console``). The contract each one keeps: on the first cancellation it stops taking commands
and lets the work it already took finish (or fail cleanly, telling the user); a second cancellation
means "now". ``serve`` sends the first when SIGTERM arrives, waits up to the shutdown deadline, sends
the second to what is still running, and returns; the caller then closes the engine, which fails
whatever still waits for the model and closes the database.

    async with await Engine.open(config) as engine:
        await serve(engine, {"slack": run_slack(engine, slack_config), ...})
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Coroutine, Mapping
from typing import Any

from bot.ops.health_server import start_metrics_server
from engine import Engine, Settings, load_settings

logger = logging.getLogger(__name__)

DEFAULT_SHUTDOWN_SECONDS = Settings.model_fields["shutdown_seconds"].default
HARD_STOP_SECONDS = 5.0  # after the deadline, how long cancelled services get to unwind
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def shutdown_seconds_from_env(env: Mapping[str, str] | None = None) -> float:
    """``COPYBOT_SHUTDOWN_SECONDS``: how long in-flight work may take to finish at shutdown."""
    return load_settings(env).shutdown_seconds


class Lifecycle:
    def __init__(self, shutdown_seconds: float = DEFAULT_SHUTDOWN_SECONDS) -> None:
        self.shutdown_seconds = shutdown_seconds
        self._stop_requested = asyncio.Event()
        self._hard_stop = asyncio.Event()
        self.reason: str | None = None
        self._installed: list[signal.Signals] = []

    @property
    def stopping(self) -> bool:
        return self._stop_requested.is_set()

    def request_stop(self, reason: str = "stop requested") -> None:
        """First call: stop gracefully. A second one (another Ctrl-C): stop now."""
        if self._stop_requested.is_set():
            logger.warning("%s again: stopping now", reason)
            self._hard_stop.set()
            return
        self.reason = reason
        self._stop_requested.set()

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self.request_stop, sig.name)
            self._installed.append(sig)

    def remove_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in self._installed:
            loop.remove_signal_handler(sig)
        self._installed.clear()

    async def run(self, services: Mapping[str, Coroutine[Any, Any, Any]]) -> None:
        """Run the services until a stop is requested or every one of them has ended by itself
        (the console at end of input); a service that fails stops the rest and its error is
        raised once they have stopped."""
        tasks = {asyncio.create_task(work, name=f"service:{name}"): name
                 for name, work in services.items()}
        stop_wait = asyncio.create_task(self._stop_requested.wait())
        pending = set(tasks)
        failure: BaseException | None = None
        try:
            while pending and not self.stopping:
                done, pending = await asyncio.wait(pending | {stop_wait},
                                                   return_when=asyncio.FIRST_COMPLETED)
                pending.discard(stop_wait)
                for task in done - {stop_wait}:
                    if not task.cancelled() and task.exception() is not None and failure is None:
                        failure = task.exception()
                        self.request_stop(f"{tasks[task]} failed")
            if pending:
                await self._drain(pending, tasks)
        finally:
            stop_wait.cancel()
        if failure is not None:
            raise failure

    async def _drain(self, running: set[asyncio.Task], names: dict[asyncio.Task, str]) -> None:
        logger.warning("%s: taking no new commands; in-flight work has %g s to finish",
                       self.reason, self.shutdown_seconds)
        for task in running:
            task.cancel()  # first cancellation: the service stops intake and drains
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.shutdown_seconds
        hard = asyncio.create_task(self._hard_stop.wait())
        try:
            still = set(running)
            while still and not self._hard_stop.is_set() and loop.time() < deadline:
                await asyncio.wait(still | {hard}, timeout=deadline - loop.time(),
                                   return_when=asyncio.FIRST_COMPLETED)
                still = {t for t in still if not t.done()}
        finally:
            hard.cancel()
        still = {t for t in running if not t.done()}
        if still:
            logger.warning("still busy after %g s (%s); cancelling", self.shutdown_seconds,
                           ", ".join(sorted(names[t] for t in still)))
            for task in still:
                task.cancel()  # second cancellation: stop now
            await asyncio.wait(still, timeout=HARD_STOP_SECONDS)
        for task in running:
            if task.done() and not task.cancelled() and task.exception() is not None:
                logger.error("%s failed while stopping", names[task], exc_info=task.exception())


async def serve(engine: Engine, services: Mapping[str, Coroutine[Any, Any, Any]],
                shutdown_seconds: float | None = None) -> None:
    """``copybot run``'s main loop: health/metrics (when configured), signal handlers, services.

    Returns once every service has stopped; the caller closes the engine."""
    lifecycle = Lifecycle(shutdown_seconds_from_env() if shutdown_seconds is None else shutdown_seconds)
    metrics_server = await start_metrics_server(engine, stopping=lambda: lifecycle.stopping)
    lifecycle.install_signal_handlers()
    try:
        await lifecycle.run(services)
    finally:
        lifecycle.remove_signal_handlers()
        if metrics_server is not None:
            await metrics_server.stop()
    if lifecycle.stopping:
        logger.warning("services stopped; closing the engine and the database")
