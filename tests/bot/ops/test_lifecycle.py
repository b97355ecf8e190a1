"""How `serve` stops services: a failing service stops the others, a second stop request does not
wait for the deadline, and services that end by themselves (the console at end of input) end it."""

from __future__ import annotations

import asyncio

import pytest

from bot.ops.lifecycle import Lifecycle, shutdown_seconds_from_env
from engine import UserError


class Service:
    """A service that records how it was stopped; on the first cancellation it drains until
    ``drained`` is set (like an adapter finishing a request), a second one stops it at once."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.draining = asyncio.Event()
        self.drained = asyncio.Event()
        self.outcome: str | None = None

    async def run(self) -> None:
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.draining.set()
            try:
                await self.drained.wait()
                self.outcome = "drained"
            except asyncio.CancelledError:
                self.outcome = "cut short"
                raise
            raise


async def test_a_failing_service_stops_the_others_and_its_error_is_raised():
    healthy = Service()
    healthy.drained.set()

    async def failing() -> None:
        await healthy.started.wait()
        raise UserError("Slack refused SLACK_BOT_TOKEN (invalid_auth); copy the token again.")

    lifecycle = Lifecycle(shutdown_seconds=30)
    with pytest.raises(UserError, match="invalid_auth"):
        await asyncio.wait_for(lifecycle.run({"slack": failing(), "discord": healthy.run()}), 10)
    assert healthy.outcome == "drained" and lifecycle.reason == "slack failed"


async def test_a_second_stop_request_cuts_the_drain_short():
    service = Service()
    lifecycle = Lifecycle(shutdown_seconds=3600)
    running = asyncio.create_task(lifecycle.run({"discord": service.run()}))
    await service.started.wait()
    lifecycle.request_stop("SIGINT")
    await service.draining.wait()
    lifecycle.request_stop("SIGINT")  # Ctrl-C again
    await asyncio.wait_for(running, 10)  # long before the hour-long deadline
    assert service.outcome == "cut short"


async def test_services_that_end_by_themselves_end_the_run():
    async def console_at_end_of_input() -> None:
        return None

    lifecycle = Lifecycle()
    await asyncio.wait_for(lifecycle.run({"console": console_at_end_of_input()}), 10)
    assert not lifecycle.stopping


def test_the_shutdown_deadline_setting():
    assert shutdown_seconds_from_env({}) == 30
    assert shutdown_seconds_from_env({"COPYBOT_SHUTDOWN_SECONDS": "5"}) == 5
    with pytest.raises(UserError, match="COPYBOT_SHUTDOWN_SECONDS is 'soon'"):
        shutdown_seconds_from_env({"COPYBOT_SHUTDOWN_SECONDS": "soon"})
