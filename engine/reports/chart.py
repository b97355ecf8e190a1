"""A weekly report's chart: approval rate and positive review share over the last weeks, as a PNG.

matplotlib is slow (a second or more): callers on the event loop run ``render_chart`` in a thread.
"""

from __future__ import annotations

from pathlib import Path


def render_chart(history: list[tuple[str, float | None, float | None]], path: Path) -> Path:
    """A PNG of approval rate and positive review share over the weeks in ``history``
    (label, approval rate, positive share), oldest first."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    from matplotlib import pyplot

    labels = [label for label, _, _ in history]
    approval = [None if rate is None else rate * 100 for _, rate, _ in history]
    positive = [None if share is None else share * 100 for _, _, share in history]
    figure, axes = pyplot.subplots(figsize=(7, 3.2), dpi=110)
    # Numeric x positions: weeks without data are gaps, but still on the axis.
    positions = list(range(len(labels)))
    axes.plot(positions, [float("nan") if v is None else v for v in approval], marker="o",
              label="variants approved %")
    if any(v is not None for v in positive):
        axes.plot(positions, [float("nan") if v is None else v for v in positive], marker="s",
                  label="reviews positive %")
    axes.set_xticks(positions, labels)
    axes.set_xlim(-0.5, len(labels) - 0.5)
    axes.set_ylim(0, 100)
    axes.set_ylabel("%")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", fontsize=8)
    axes.set_title("copybot: the last weeks", fontsize=10)
    figure.autofmt_xdate()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial.png")
    figure.savefig(partial, format="png")
    pyplot.close(figure)
    partial.replace(path)
    return path
