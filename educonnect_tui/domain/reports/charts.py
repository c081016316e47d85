"""Rates and counts drawn in text cells, for the terminal panel and the command line."""

from __future__ import annotations

from collections.abc import Sequence

BAR_EIGHTHS = " ▏▎▍▌▋▊▉█"
SPARK_LEVELS = "▁▂▃▄▅▆▇█"
COLUMN_EIGHTHS = " ▁▂▃▄▅▆▇█"


def bar(rate: float, width: int) -> str:
    """A rate as a bar of ``width`` cells drawn in eighths: ▏▎▍▌▋▊▉█, padded with spaces."""
    rate = min(max(rate, 0.0), 1.0)
    eighths = round(rate * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (BAR_EIGHTHS[part] if part else "")
    return text.ljust(width)


def sparkline(values: Sequence[int]) -> str:
    """One cell per value, scaled to the maximum.

    Zero is drawn as a space so that a day without activations reads as nothing, while
    the smallest non-zero value still shows (▁): a quiet day is not an empty one.
    """
    top = max(values, default=0)
    if top <= 0:
        return " " * len(values)
    cells = []
    for v in values:
        if v <= 0:
            cells.append(" ")
        else:
            level = max(0, min(len(SPARK_LEVELS) - 1, round(v / top * (len(SPARK_LEVELS) - 1))))
            cells.append(SPARK_LEVELS[level])
    return "".join(cells)


def column_chart(values: Sequence[int], rows: int, step: int = 1) -> list[str]:
    """A column chart ``rows`` lines high, top line first, one column per value.

    Each line holds eight levels (▁ to █), so three lines draw 24 heights. A non-zero
    value always shows at least ▁; a zero shows nothing. With ``step`` > 1 each value
    takes ``step`` cells: its column then spaces, which keeps neighbouring days apart.
    """
    top = max(values, default=0)
    lines: list[list[str]] = [[] for _ in range(rows)]
    for v in values:
        eighths = 0 if v <= 0 or top <= 0 else max(1, round(v / top * rows * 8))
        for line in range(rows):
            floor = (rows - 1 - line) * 8
            fill = min(max(eighths - floor, 0), 8)
            lines[line].append(COLUMN_EIGHTHS[fill])
            lines[line].append(" " * (step - 1))
    return ["".join(line) for line in lines]
