"""A PNG of every metric alarm's datapoints over (simulated) time, thresholds drawn.

One subplot per metric alarm: the values the alarm compares, one per period, computed by
`local_run.cloudwatch.evaluator.datapoint` (the same per-period statistic and metric math the
evaluation uses), the threshold as a horizontal line, the periods the alarm spent in ALARM
(from the `Evaluation`) marked in red, and the scenario's phases shaded and labelled.
matplotlib runs with the Agg backend (no display needed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from local_run.cloudwatch.alarm_model import MetricAlarm, TemplateAlarms
from local_run.cloudwatch.evaluator import AlarmState, Evaluation, datapoint
from local_run.cloudwatch.metric_statistics import aligned
from local_run.cloudwatch.metric_store import MetricStore

Span = tuple[str, float, float]  # (label, start, end) in epoch seconds


def alarm_series(
    alarm: MetricAlarm, store: MetricStore, start: float, end: float
) -> list[tuple[float, float | None]]:
    """(period start, the alarm's datapoint) for every period overlapping ``[start, end)``."""
    points: list[tuple[float, float | None]] = []
    t = aligned(start, alarm.period)
    while t < end:
        points.append((t, datapoint(alarm, store, t)))
        t += alarm.period
    return points


def alarm_intervals(evaluation: Evaluation, name: str, end: float) -> list[tuple[float, float]]:
    """The ``[from, to)`` intervals the alarm spent in ALARM, up to ``end``."""
    intervals: list[tuple[float, float]] = []
    since: float | None = None
    for change in evaluation.changes_of(name):
        if change.new is AlarmState.ALARM and since is None:
            since = change.timestamp
        elif change.new is not AlarmState.ALARM and since is not None:
            intervals.append((since, change.timestamp))
            since = None
    if since is not None and since < end:
        intervals.append((since, end))
    return intervals


def load_matplotlib() -> Any:
    """pyplot on the Agg backend (no display needed); importing it takes seconds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_plot(
    path: str | Path,
    alarms: TemplateAlarms,
    store: MetricStore,
    start: float,
    end: float,
    *,
    phases: Sequence[Span] = (),
    evaluation: Evaluation | None = None,
    only: set[str] | None = None,
    strip_prefix: str = "",
    title: str = "alarm datapoints",
) -> Path:
    plt = load_matplotlib()
    chosen = [a for a in alarms.metric_alarms if not only or a.name in only]
    chosen = chosen or list(alarms.metric_alarms)  # e.g. only a composite was asked for
    chosen.sort(key=lambda a: a.name)
    if not chosen:
        raise ValueError("no metric alarm to plot")
    ncols = 2 if len(chosen) > 1 else 1
    nrows = math.ceil(len(chosen) / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(7.5 * ncols, 2.4 * nrows + 0.8), sharex=True, squeeze=False
    )

    def minutes(t: float) -> float:
        return (t - start) / 60

    for index, alarm in enumerate(chosen):
        ax = axes[index // ncols][index % ncols]
        for i, (_, s, e) in enumerate(phases):
            ax.axvspan(minutes(s), minutes(e), color="0.92" if i % 2 else "0.84", lw=0)
        if phases and index < ncols:  # the phase names above the top row
            top = ax.secondary_xaxis("top")
            top.set_xticks(
                [(minutes(s) + minutes(e)) / 2 for _, s, e in phases],
                [label for label, _, _ in phases],
            )
            top.tick_params(labelsize=6, length=0, labelrotation=15)
        points = alarm_series(alarm, store, start, end)
        xs = [minutes(t) for t, _ in points] + [minutes(points[-1][0] + alarm.period)]
        ys = [math.nan if v is None else v for _, v in points]
        ax.stairs(ys, xs, baseline=None, color="tab:blue", lw=1.2)
        ax.axhline(alarm.threshold, color="tab:red", ls="--", lw=1)
        real = [v for v in ys if not math.isnan(v)] + [alarm.threshold]
        low, high = min(0.0, *real), max(real)
        ax.set_ylim(low, high + 0.15 * ((high - low) or 1.0))
        if evaluation is not None:
            for s, e in alarm_intervals(evaluation, alarm.name, end):
                ax.axvspan(minutes(s), minutes(e), ymin=0, ymax=0.04, color="tab:red", lw=0)
        returned = alarm.returned
        what = returned.metric_stat.stat if returned.metric_stat else "metric math"
        ax.set_title(
            f"{alarm.name.removeprefix(strip_prefix)}  ({what}, {alarm.period // 60} min, "
            f"{alarm.datapoints_to_alarm} of {alarm.evaluation_periods}, "
            f"{alarm.comparison.symbol} {alarm.threshold:g})",
            fontsize=8,
        )
        ax.tick_params(labelsize=7)
    for index in range(len(chosen), nrows * ncols):
        axes[index // ncols][index % ncols].set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("minutes", fontsize=8)
    fig.suptitle(
        f"{title}: per period, the value each alarm compares (blue; gaps: no data), its "
        "threshold (dashed red), in ALARM (red band)",
        fontsize=10,
        y=1 - 0.25 / (2.4 * nrows + 0.8),
    )
    # Fixed margins in inches: tight_layout measured every label of every axes, twice, and
    # took most of the plot's time (seconds with 40 axes).
    height = 2.4 * nrows + 0.8
    fig.subplots_adjust(
        left=0.05, right=0.98, bottom=0.55 / height, top=1 - 1.3 / height, hspace=0.55, wspace=0.12
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", dpi=80)
    plt.close(fig)
    return out
