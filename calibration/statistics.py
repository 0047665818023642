"""City statistics: the published figures calibration fits the model to.

``calibration/data/city_statistics.csv`` holds one published figure a row:
``city, indicator, year, period, value, unit, source, label, note``. ``label``
says what the figure is: ``source`` (printed as such in the publication named
in ``source``), ``derived`` (computed from published figures; ``note`` gives the
method) or ``assumption`` (``note`` gives the reason). This module reads and
checks it (every row needs a city, an indicator, a year, a value, a source and
a label, and a derived or assumed row its method or reason; a bad row is an
error naming the file, the line and the field) and picks the base-year figures calibration targets: rows whose period
is the whole calendar year (``period = "year"``), not a plan target, a quarter
or a derived "implied" figure.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STATISTICS_FILE = PROJECT_ROOT / "calibration" / "data" / "city_statistics.csv"

#: Columns the file must have.
COLUMNS = ("city", "indicator", "year", "period", "value", "unit", "source", "label", "note")
#: What a figure can be: printed in its source, derived from printed figures, or assumed.
LABELS = ("source", "derived", "assumption")
#: The period of a figure that covers a whole calendar year.
WHOLE_YEAR = "year"


class StatisticsError(ValueError):
    """A statistics file that cannot be used: names the file, the row and what is wrong.

    Attributes:
        path: the file.
        line: line number in the file (1 is the header), or None for the whole file.
        field: the column at fault.
        reason: what is wrong.
    """

    def __init__(self, path: str | Path, line: int | None, field: str, reason: str, row: dict | None = None):
        self.path = str(path)
        self.line = line
        self.field = field
        self.reason = reason
        where = f"line {line}" if line is not None else "(file)"
        if row:
            where += f" ({row.get('city', '?')}, {row.get('indicator', '?')}, {row.get('year', '?')})"
        super().__init__(f"{self.path}: {where}: {field}: {reason}")


@dataclass(frozen=True)
class Statistic:
    """One published figure.

    Attributes:
        city: city key (lhasa, diqing, ...; 'china' for national figures).
        indicator: what it measures (retail_sales, catering_share, consumption_per_capita_urban, ...).
        year: calendar year it describes.
        period: the part of the year ('year' for the whole calendar year, 'Jan-Sep', 'year (target)', ...).
        value: the figure, in ``unit``.
        unit: yuan, fraction, yuan_per_person_per_year, ...
        source: where it was published (or, for a derived figure, where its inputs were).
        label: 'source', 'derived' or 'assumption' (see LABELS).
        estimate: whether it is derived or assumed rather than published as such.
        note: how it was derived, caveats.
        line: line number in the file (for messages).
    """

    city: str
    indicator: str
    year: int
    period: str
    value: float
    unit: str
    source: str
    estimate: bool
    note: str
    line: int
    label: str = "source"

    def citation(self) -> str:
        """Short provenance for tables: the source, marked when the figure is derived or assumed."""
        text = self.source
        if self.estimate:
            text = f"{self.label.upper()}: " + (self.note or "derived figure") + " — " + text
        return text


def read_statistics(path: str | Path = STATISTICS_FILE) -> list[Statistic]:
    """Read and check every row of a statistics file.

    Raises:
        StatisticsError: the file is missing or lacks a column, or a row has no
            city, indicator, year, value or source, or a year or value that is not a number.
    """
    path = Path(path)
    if not path.is_file():
        raise StatisticsError(path, None, "(file)", "no such file")
    out: list[Statistic] = []
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("city", "indicator", "year", "value", "source") if c not in (reader.fieldnames or [])]
        if missing:
            raise StatisticsError(path, 1, missing[0], f"missing column; the header must have {', '.join(COLUMNS)}")
        for line, row in enumerate(reader, start=2):
            out.append(_read_row(path, line, row))
    return out


def _read_row(path: Path, line: int, row: dict) -> Statistic:
    def text(key: str) -> str:
        value = row.get(key)
        return value.strip() if isinstance(value, str) else ""

    for key in ("city", "indicator"):
        if not text(key):
            raise StatisticsError(path, line, key, "empty; every statistic names its city and indicator", row)
    if not text("year"):
        raise StatisticsError(path, line, "year", "missing: every statistic needs the year it describes", row)
    try:
        year = int(text("year"))
    except ValueError:
        raise StatisticsError(path, line, "year", f"expected a calendar year, got {text('year')!r}", row) from None
    if not 1949 <= year <= 2100:
        raise StatisticsError(path, line, "year", f"{year} is not a plausible calendar year", row)
    if not text("source"):
        raise StatisticsError(path, line, "source", "missing: every statistic needs the publication it comes from", row)
    try:
        value = float(text("value"))
    except ValueError:
        raise StatisticsError(path, line, "value", f"expected a number, got {text('value')!r}", row) from None
    if value != value:
        raise StatisticsError(path, line, "value", "is not a number (NaN)", row)
    if "label" in row:
        label = text("label").lower()
        if label not in LABELS:
            raise StatisticsError(path, line, "label", f"expected one of {', '.join(LABELS)}, got {text('label')!r}: "
                                  "every figure says whether it is printed in its source, derived or assumed", row)
        if label != "source" and not text("note"):
            raise StatisticsError(path, line, "note", f"missing: a {label} figure states its "
                                  f"{'method' if label == 'derived' else 'reason'} in the note", row)
    else:  # an older file with a true/false estimate column
        estimate_text = text("estimate").lower()
        if estimate_text not in ("", "true", "false"):
            raise StatisticsError(path, line, "estimate", f"expected true or false, got {text('estimate')!r}", row)
        label = "derived" if estimate_text == "true" else "source"
    # A blank period is not taken for a whole year: only rows that say "year" are annual figures.
    return Statistic(city=text("city").lower(), indicator=text("indicator"), year=year, period=text("period"),
                     value=value, unit=text("unit"), source=text("source"), estimate=label != "source",
                     note=text("note"), line=line, label=label)


def cities(statistics: list[Statistic]) -> list[str]:
    """City keys present in the statistics, in file order."""
    return list(dict.fromkeys(s.city for s in statistics))


def annual_figure(statistics: list[Statistic], city: str, indicator: str, year: int) -> Statistic | None:
    """The whole-year figure of ``indicator`` for ``city`` in ``year``, or None.

    Where several rows qualify, a published figure beats an estimate; among
    equals the first row in the file wins.
    """
    rows = [s for s in statistics
            if s.city == city and s.indicator == indicator and s.year == year and s.period == WHOLE_YEAR]
    if not rows:
        return None
    rows.sort(key=lambda s: (s.estimate, s.line))
    return rows[0]
