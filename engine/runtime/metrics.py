"""Prometheus metrics: the counts the engine keeps. ``bot/ops/health_server.py`` serves them (and the
engine's ``health()``) over HTTP when a port is configured.

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
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from engine.errors import BusyError, UserError

if TYPE_CHECKING:
    from engine.generation.contract import Generator

GENERATION_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)


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
