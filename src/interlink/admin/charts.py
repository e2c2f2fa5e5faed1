"""Small charts as inline SVG, drawn on the server (no script, no library): a bar per minute, a line of waits.

Each chart carries a text description (``role="img"`` with ``aria-label``), so a screen reader hears the
figures the picture shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, PAD = 600, 90, 4


def _frame(label: str, body: str, peak: str) -> Markup:
    return Markup(  # noqa: S704 - every value in it is escaped or a number we computed
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + 14}" role="img" aria-label="{escape(label)}" '
        f'preserveAspectRatio="none"><title>{escape(label)}</title>'
        f'<line class="axis" x1="0" y1="{HEIGHT}" x2="{WIDTH}" y2="{HEIGHT}"/>{body}'
        f'<text class="peak" x="{WIDTH - 2}" y="10" text-anchor="end">{escape(peak)}</text>'
        f'<text class="tick" x="0" y="{HEIGHT + 12}">60 min ago</text>'
        f'<text class="tick" x="{WIDTH}" y="{HEIGHT + 12}" text-anchor="end">now</text></svg>'
    )


def bars(values: Sequence[int], *, label: str, unit: str) -> Markup:
    """One bar per value (per minute), scaled to the largest."""
    peak = max(values, default=0)
    count = max(1, len(values))
    slot = WIDTH / count
    parts = []
    for index, value in enumerate(values):
        if value <= 0:
            continue
        height = max(2.0, (HEIGHT - PAD) * value / peak)
        parts.append(
            f'<rect class="bar" x="{index * slot + 1:.1f}" y="{HEIGHT - height:.1f}" '
            f'width="{max(1.0, slot - 2):.1f}" height="{height:.1f}"><title>{value} {escape(unit)}</title></rect>'
        )
    total = sum(values)
    description = f"{label}: {total} in the last {len(values)} minutes, at most {peak} in one minute"
    return _frame(description, "".join(parts), f"max {peak}/min")


def line(values: Sequence[float | None], *, label: str, format_peak: str = "{:.1f} s") -> Markup:
    """A line through the minutes that have a value (gaps where there is none)."""
    present = [value for value in values if value is not None]
    peak = max(present, default=0.0)
    count = max(1, len(values) - 1)
    scale = (HEIGHT - PAD) / peak if peak > 0 else 0.0
    segments: list[list[str]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            if segments[-1]:
                segments.append([])
            continue
        x = WIDTH * index / count
        y = HEIGHT - value * scale
        segments[-1].append(f"{x:.1f},{y:.1f}")
    body = "".join(
        f'<polyline class="line" points="{" ".join(points)}"/>'
        if len(points) > 1
        else f'<circle class="dot" cx="{points[0].split(",")[0]}" cy="{points[0].split(",")[1]}" r="2.5"/>'
        for points in segments
        if points
    )
    peak_text = format_peak.format(peak) if present else "no events processed"
    description = f"{label}: longest {peak_text}" if present else f"{label}: no events processed in this hour"
    return _frame(description, body, f"max {peak_text}" if present else peak_text)
