"""Gauges are read from the generator at each scrape: never stale, never set by hand."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from engine.runtime.metrics import Metrics


class Waiting:
    """A generator as the metrics see it: how many requests wait, which version answers."""

    def __init__(self) -> None:
        self.queue_depth = 0
        self.version = "v1"


def samples(metrics: Metrics) -> dict[tuple[str, tuple], float]:
    text = metrics.render().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_queue_depth_and_model_version_follow_the_generator_at_each_scrape():
    metrics = Metrics()
    assert samples(metrics)[("copybot_queue_depth", ())] == 0  # nothing watched yet
    generator = Waiting()
    metrics.watch(generator)
    generator.queue_depth = 3
    assert samples(metrics)[("copybot_queue_depth", ())] == 3
    assert samples(metrics)[("copybot_model_info", (("version", "v1"),))] == 1
    generator.queue_depth, generator.version = 0, "v2"
    scraped = samples(metrics)
    assert scraped[("copybot_queue_depth", ())] == 0
    assert scraped[("copybot_model_info", (("version", "v2"),))] == 1
    assert ("copybot_model_info", (("version", "v1"),)) not in scraped
