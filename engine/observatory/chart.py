"""Charts of a published table (matplotlib, PNG): requests by measure type and by outcome, sent and received;
suppressed figures are left out, never drawn as zero."""

from __future__ import annotations

import io

from engine.i18n import C_, translate
from engine.observatory.labels import BREAKDOWN_LABELS, category_label
from engine.observatory.publish import Published

_SENT, _RECEIVED = C_("direction", "Sent"), C_("direction", "Received")


def chart_png(table: Published, lang: str = "en") -> bytes:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    t = lambda msgid: translate(lang, msgid)  # noqa: E731
    panels = ("measure_type", "outcome")
    figure, axes = plt.subplots(1, len(panels), figsize=(11, 4.5), dpi=100)
    for axis, breakdown in zip(axes, panels, strict=True):
        rows = [r for r in table.rows if r.breakdown == breakdown]
        categories = sorted({r.category for r in rows})
        counts = {(r.category, r.direction): r.count for r in rows}
        height = 0.4
        for offset, direction, label, colour in ((-height / 2, "sent", _SENT, "#1f3a5f"),
                                                 (height / 2, "received", _RECEIVED, "#8fb3d9")):
            shown = [(i, counts[(c, direction)]) for i, c in enumerate(categories)
                     if counts.get((c, direction)) is not None]
            axis.barh([i + offset for i, _ in shown], [n for _, n in shown], height=height, label=t(label),
                      color=colour)
        axis.set_yticks(range(len(categories)), [category_label(breakdown, c, lang) for c in categories],
                        fontsize=7)
        axis.invert_yaxis()
        axis.set_title(t(BREAKDOWN_LABELS[breakdown]), fontsize=9)
        axis.legend(fontsize=7)
    figure.suptitle(f"{table.observatory} — {table.period.code}", fontsize=10)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": "exhorto"})
    plt.close(figure)
    return buffer.getvalue()
