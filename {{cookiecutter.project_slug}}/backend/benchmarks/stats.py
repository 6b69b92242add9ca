"""Percentiles of repeated measurements, and the Markdown tables that report them."""

import math
from dataclasses import dataclass, field


def percentile(samples, fraction):
    """Return the `fraction` quantile (0 to 1) of samples, interpolating linearly between ranks."""
    if not samples:
        raise ValueError("percentile of no samples")
    ordered = sorted(samples)
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


@dataclass(frozen=True)
class Summary:
    """Median, p90 and p99 of a sample. For rates, p90 and p99 are taken on the slow side."""

    median: float
    p90: float
    p99: float
    count: int

    @classmethod
    def of(cls, samples, higher_is_better=False):
        if higher_is_better:
            # A rate's 90th percentile run is the one slower than 90% of the runs.
            return cls(percentile(samples, 0.5), percentile(samples, 0.1), percentile(samples, 0.01), len(samples))
        return cls(percentile(samples, 0.5), percentile(samples, 0.9), percentile(samples, 0.99), len(samples))


@dataclass(frozen=True)
class Unit:
    """Display unit of a measured quantity: its name, the factor from the measured value, and its direction."""

    name: str
    scale: float = 1.0
    higher_is_better: bool = False

    def format(self, value):
        if value is None:
            return "—"
        shown = value * self.scale
        if abs(shown) >= 1000:
            return f"{shown:,.0f}"
        if abs(shown) >= 100:
            return f"{shown:.0f}"
        if abs(shown) >= 10:
            return f"{shown:.1f}"
        return f"{shown:.2f}"


MILLISECONDS = Unit("ms", scale=1000.0)
MESSAGES_PER_SECOND = Unit("msgs/s", higher_is_better=True)
KIBIBYTES = Unit("KiB", scale=1 / 1024)


@dataclass(frozen=True)
class Target:
    """A threshold that a row is reported against, never asserted.

    `check(summary, floor, baseline)` returns True or False, or None when a value it needs is missing.
    """

    text: str
    check: object


@dataclass
class Row:
    case: str
    unit: Unit
    samples: list = field(default_factory=list)
    floor: list | None = None
    baseline: list | None = None
    target: Target | None = None
    # Shown instead of the values when the case could not be measured.
    missing: str | None = None

    def summary(self):
        return Summary.of(self.samples, self.unit.higher_is_better) if self.samples else None

    def floor_summary(self):
        return Summary.of(self.floor, self.unit.higher_is_better) if self.floor else None

    def baseline_summary(self):
        return Summary.of(self.baseline, self.unit.higher_is_better) if self.baseline else None


def count_of(count, noun):
    """Return e.g. "1 client" or "1,000 clients"."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def ratio(value, reference):
    if value is None or reference is None or reference == 0:
        return None
    return value / reference


def format_ratio(value):
    return "—" if value is None else f"{value:.2f}×"


def verdict(row):
    if row.target is None:
        return "—"
    summary = row.summary()
    if summary is None:
        return "not measured"
    floor = row.floor_summary()
    baseline = row.baseline_summary()
    result = row.target.check(summary, floor.median if floor else None, baseline.median if baseline else None)
    if result is None:
        return "not measured"
    return "met" if result else "not met"


HEADER = (
    "| case | unit | median | p90 | p99 | runs | floor | ÷ floor | baseline | ÷ baseline | target | verdict |\n"
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
)


def render_row(row):
    summary = row.summary()
    floor = row.floor_summary()
    baseline = row.baseline_summary()
    unit = row.unit
    if summary is None:
        values = [row.missing or "not measured", "—", "—", "0"]
    else:
        values = [unit.format(summary.median), unit.format(summary.p90), unit.format(summary.p99), str(summary.count)]
    cells = [
        row.case,
        unit.name,
        *values,
        unit.format(floor.median) if floor else "—",
        format_ratio(ratio(summary and summary.median, floor and floor.median)),
        unit.format(baseline.median) if baseline else "—",
        format_ratio(ratio(summary and summary.median, baseline and baseline.median)),
        row.target.text if row.target else "—",
        verdict(row),
    ]
    return "| " + " | ".join(cells) + " |"


@dataclass
class Section:
    """One scenario's report: a title, what it measures, one table, and notes under it."""

    title: str
    description: str
    rows: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    failed: bool = False

    def render(self, heading_level=3):
        lines = [f"{'#' * heading_level} {self.title}", "", self.description, ""]
        if self.rows:
            lines.append(HEADER)
            lines += [render_row(row) for row in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"
