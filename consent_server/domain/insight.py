"""What the insight page shows: one site's statistics over a range of days.

Built from the statistics the audit API gives (one entry per day and site
that had events), with every day of the range present: a day without events
counts 0 events, and its rates and GPC share are ``None`` (nothing to
measure), which the charts draw as a gap. Figures for the whole range weigh
each day by its events.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from .vocabulary import METHODS, OPTIONAL

# The page's words for the log's names.
CATEGORY_LABELS = {
    "preferences": "Preferences",
    "analytics": "Analytics",
    "advertising": "Advertising",
}
METHOD_LABELS = {
    "accept_all": "Accept all",
    "reject_all": "Reject all",
    "custom": "Customized",
    "withdraw": "Withdrawn",
}
assert set(CATEGORY_LABELS) == set(OPTIONAL) and set(METHOD_LABELS) == set(METHODS)
MAX_DAYS = 366


@dataclasses.dataclass(frozen=True)
class Day:
    """One day of one site: counts, and shares from 0 to 1 (None: no events)."""

    day: dt.date
    events: int
    visitors: int
    opt_in: dict[str, float | None]
    methods: dict[str, int]
    gpc_on: int

    @property
    def gpc_share(self) -> float | None:
        """The share of the day's events made with GPC on."""
        return self.gpc_on / self.events if self.events else None


@dataclasses.dataclass(frozen=True)
class Insight:
    """A site's days from ``start`` to ``end`` (both included), and totals."""

    site: str
    start: dt.date
    end: dt.date
    categories: tuple[str, ...]
    days: list[Day]
    visitors: int

    @property
    def events(self) -> int:
        """Every event in the range."""
        return sum(d.events for d in self.days)

    @property
    def opt_in(self) -> dict[str, float | None]:
        """Each shown category's opt-in rate over the range."""
        total = self.events
        return {
            k: sum((d.opt_in[k] or 0) * d.events for d in self.days) / total
            if total
            else None
            for k in self.categories
        }

    @property
    def gpc_share(self) -> float | None:
        """The share of the range's events made with GPC on."""
        total = self.events
        return sum(d.gpc_on for d in self.days) / total if total else None

    @property
    def methods(self) -> dict[str, int]:
        """How many events each way of choosing made in the range."""
        return {m: sum(d.methods[m] for d in self.days) for m in METHODS}


def build(
    stats: Iterable[dict[str, Any]],
    *,
    site: str,
    start: dt.date,
    end: dt.date,
    visitors: int,
    categories: Sequence[str] = OPTIONAL,
) -> Insight:
    """The insight of ``site`` from the statistics of :func:`store.stats.daily`
    (entries of other sites or days outside the range are left out)."""
    found = {
        dt.date.fromisoformat(e["day"]): e
        for e in stats
        if e["site"] == site and start.isoformat() <= e["day"] <= end.isoformat()
    }
    shown = tuple(k for k in OPTIONAL if k in categories)
    days = []
    for offset in range((end - start).days + 1):
        day = start + dt.timedelta(days=offset)
        entry = found.get(day)
        if entry is None:
            days.append(
                Day(day, 0, 0, dict.fromkeys(shown), dict.fromkeys(METHODS, 0), 0)
            )
            continue
        by_method = entry.get("by_method", {})
        days.append(
            Day(
                day,
                entry["events"],
                entry["visitors"],
                {k: entry["opt_in"][k] for k in shown},
                {m: by_method.get(m, {}).get("events", 0) for m in METHODS},
                entry.get("by_gpc", {}).get("on", {}).get("events", 0),
            )
        )
    return Insight(site, start, end, shown, days, visitors)


def percent(share: float | None) -> str:
    """A share as the page writes it: ``42.5 %``, or ``—`` for nothing to measure."""
    return "—" if share is None else f"{share * 100:.1f} %"


def short_day(day: dt.date) -> str:
    """A day as a chart's axis labels it: ``1 Mar``."""
    return f"{day.day} {day.strftime('%b')}"


def _cell(value: str) -> str:
    # Nothing here comes from a visitor, but a cell starting with one of
    # these would be a formula in a spreadsheet: never let it be one.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _number(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.1f}"


def csv_columns(insight: Insight) -> list[str]:
    """The CSV's header row."""
    return [
        "day",
        "events",
        "visitors",
        *(f"{k} opt-in %" for k in insight.categories),
        *METHODS,
        "gpc events",
        "gpc share %",
    ]


def csv_text(insight: Insight) -> str:
    """The insight as CSV: a header row, then one row per day of the range,
    with the same numbers as the page (shares in percent, one decimal; empty
    where a day has nothing to measure)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([_cell(c) for c in csv_columns(insight)])
    for d in insight.days:
        writer.writerow(
            _cell(v)
            for v in (
                d.day.isoformat(),
                str(d.events),
                str(d.visitors),
                *(_number(d.opt_in[k]) for k in insight.categories),
                *(str(d.methods[m]) for m in METHODS),
                str(d.gpc_on),
                _number(d.gpc_share),
            )
        )
    return buffer.getvalue()
