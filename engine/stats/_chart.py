"""Chart of monthly volumes (sent / received) and median time to execute, as PNG or SVG (matplotlib)."""

from __future__ import annotations

from pathlib import Path

from engine.i18n import C_, N_, translate
from engine.stats._aggregate import Report

CHART_FORMATS = ("png", "svg")
_TITLE = N_("Requests per month and median time to execute")
_AXIS_COUNT = N_("Requests opened")
_AXIS_DAYS = N_("Median days to execute")
_SENT, _RECEIVED = C_("direction", "Sent"), C_("direction", "Received")
_EXEC = N_("Time to execute")


def chart_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in CHART_FORMATS:
        raise ValueError(suffix)
    return suffix


def write_chart(report: Report, path: Path, lang: str = "en") -> Path:
    """Bars: requests opened per month by direction (suppressed months left empty). Line: median days to
    execute of the requests executed that month, both directions together when each is published."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    fmt = chart_format(path)
    t = lambda msgid: translate(lang, msgid)  # noqa: E731
    months = sorted({m.month for m in report.months})
    index = {month: i for i, month in enumerate(months)}
    counts = {(m.month, m.direction): m.count for m in report.months}
    figure, axis = plt.subplots(figsize=(max(6.0, 0.45 * len(months) + 2), 4.0), dpi=110)
    width = 0.4
    for offset, direction, label, colour in (
        (-width / 2, "sent", _SENT, "#1f3a5f"),
        (width / 2, "received", _RECEIVED, "#8fb3d9"),
    ):
        xs = [index[m] + offset for m in months if counts.get((m, direction)) is not None]
        ys = [counts[(m, direction)] for m in months if counts.get((m, direction)) is not None]
        axis.bar(xs, ys, width=width, label=t(label), color=colour)
    axis.set_ylabel(t(_AXIS_COUNT))
    axis.set_xticks(range(len(months)), months, rotation=60, fontsize=7)
    right = axis.twinx()
    for direction, style in (("sent", "-o"), ("received", "--s")):
        points = [
            (index[m.month], m.execute_median_days)
            for m in report.months
            if m.direction == direction and m.execute_median_days is not None
        ]
        if points:
            right.plot(
                [p[0] for p in points],
                [p[1] for p in points],
                style,
                color="#c0504d",
                markersize=3,
                label=f"{t(_EXEC)} ({t(_SENT if direction == 'sent' else _RECEIVED).lower()})",
            )
    right.set_ylabel(t(_AXIS_DAYS))
    right.set_ylim(bottom=0)
    handles = axis.get_legend_handles_labels()
    extra = right.get_legend_handles_labels()
    axis.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=7, loc="upper left")
    axis.set_title(f"{t(_TITLE)} — {report.authority}", fontsize=10)
    figure.tight_layout()
    # Fixed metadata: the same report gives the same file.
    metadata = {"Date": None} if fmt == "svg" else {"Software": "exhorto"}
    figure.savefig(path, format=fmt, metadata=metadata)
    plt.close(figure)
    return path
