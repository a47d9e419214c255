"""A scan report as text (for a terminal and CI logs), JSON and an HTML page."""

from __future__ import annotations

import html
import json
from typing import Any

from ..domain.printable import printable
from .crawl import PHASE_TEXT
from .report import Item, Report

SOURCES = {
    "declared": "the site's services",
    "necessary": "consent-server's strictly necessary list",
    "hosts": "consent-server's list of tag hosts",
    "database": "Open Cookie Database",
    "unknown": "unknown",
}


def fix(item: Item) -> str:
    """How to stop a leak: the gating markup for the tag, as far as it is known."""
    category = item.category or "analytics"
    if item.kind != "request":
        return (
            f'gate the tag that sets it with data-consent="{category}"'
            " (it runs before consent)"
        )
    tag = item.element.split(" ", 1)[0].lstrip("<").lower()
    if tag == "script":
        return (
            f'mark the script: <script type="text/plain" data-consent="{category}" …>'
        )
    if tag in ("iframe", "img", "video", "audio", "source", "embed"):
        return (
            f'rename src to data-src and add data-consent="{category}" to the <{tag}>'
        )
    if tag == "link":
        return f'rename href to data-href and add data-consent="{category}"'
    return (
        f'gate the tag that makes it with data-consent="{category}", or declare'
        " the host as a strictly necessary service if it is one"
    )


def item_json(item: Item) -> dict[str, Any]:
    """One item as the JSON report writes it."""
    out: dict[str, Any] = {
        "kind": item.kind,
        "name": item.name,
        "category": item.category,
        "service": item.service or None,
        "classified_by": item.source,
        "seen": list(item.phases),
        "leaked": item.leaked,
        "declared": item.declared,
        "pages": item.pages,
    }
    if item.kind == "request":
        out.update(
            urls=item.urls, started_by=item.started_by, element=item.element or None
        )
    elif item.kind == "cookie":
        out.update(
            domain=item.domain,
            first_party=item.first_party,
            lifetime_days=item.days,
            set_by=item.started_by or None,
        )
    if item.leaked:
        out.update(leaked_on=item.leaked_on, fix=fix(item))
    return out


def as_json(report: Report) -> str:
    """The report as one JSON document."""
    doc = {
        "start": report.start,
        "site": report.site,
        "consent_service": report.service,
        "pages": report.pages,
        # A scan that did not finish proves nothing: not ok either.
        "ok": not report.leak_count and not report.problems,
        "leak_count": report.leak_count,
        "leaks": [item_json(i) for i in report.leaks],
        "undeclared": [item_json(i) for i in report.undeclared],
        "unused": report.unused,
        "seen": [item_json(i) for i in report.items],
        "proposed": {"services": report.proposed},
        "problems": report.problems,
        "notes": report.notes,
        "not_listed": report.not_listed,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _what(item: Item) -> str:
    if item.kind == "request":
        return f"request to {item.name}"
    if item.kind == "cookie":
        party = "first party" if item.first_party else "third party"
        life = "session" if item.days is None else f"{item.days:g} days"
        return f"cookie {item.name} ({item.domain}, {party}, {life})"
    return f"{item.kind} key {item.name}"


def _verdict(item: Item) -> str:
    if item.category is None:
        return "category unknown"
    who = f"{item.service}, " if item.service else ""
    return f"{item.category}: {who}{SOURCES[item.source]}"


def _phases(phases: list[Any]) -> str:
    return ", ".join(PHASE_TEXT[p] for p in phases)


def leak_heading(report: Report) -> str:
    """How many leaks, and how many of them are listed when not all are."""
    count, listed = report.leak_count, len(report.leaks)
    return f"{count:,}" if count == listed else f"{count:,}, {listed:,} listed"


def no_leaks(report: Report) -> str:
    """What a report without a leak says: a clean bill only without problems."""
    if report.problems:
        return (
            "No leaks seen: but the scan met the problems above, so this is no"
            " clean bill."
        )
    return "No leaks: nothing non-essential before a choice or after Reject all."


def as_text(report: Report) -> str:
    """The report for a terminal: leaks first, then what to declare."""
    lines = [f"Scan of {report.start}"]
    if report.site:
        service = f", consent service {report.service}" if report.service else ""
        lines.append(f"Site {report.site}{service}")
    lines.append(
        f"{len(report.pages)} page(s), three visits each: before a choice,"
        " after Reject all, after Accept all."
    )
    lines += [f"Note: {n}" for n in report.notes]
    lines += [f"Problem: {p}" for p in report.problems]
    leaks = report.leaks
    lines.append("")
    if leaks:
        lines.append(
            f"LEAKS ({leak_heading(report)}): non-essential before a choice or"
            " after Reject all"
        )
        for item in leaks:
            lines.append(f"  {_what(item)} [{_verdict(item)}]")
            lines.append(f"    {_phases(item.leaked)}, on {', '.join(item.leaked_on)}")
            lines += [f"    {u}" for u in item.urls]
            if item.started_by:
                verb = "started" if item.kind == "request" else "set"
                started = f"    {verb} by {item.started_by}"
                lines.append(started + (f": {item.element}" if item.element else ""))
            lines.append(f"    fix: {fix(item)}")
    else:
        lines.append(no_leaks(report))
    undeclared = report.undeclared
    if undeclared:
        lines += [
            "",
            f"UNDECLARED ({len(undeclared)}): no service of the site covers these",
        ]
        for item in undeclared:
            lines.append(f"  {_what(item)} [{_verdict(item)}], {_phases(item.phases)}")
    if report.unused:
        lines += ["", f"UNUSED ({len(report.unused)}): declared, never seen"]
        lines += [f"  {name}" for name in report.unused]
    lines += ["", "SEEN"]
    for item in report.items:
        lines.append(f"  {_what(item)} [{_verdict(item)}], {_phases(item.phases)}")
    lines += [
        "",
        "PROPOSED services (review them, then put them in the site config):",
        json.dumps({"services": report.proposed}, indent=2, ensure_ascii=False),
    ]
    # Names and addresses come from the storefront: none may drive the terminal.
    return "\n".join(printable(line) for line in "\n".join(lines).split("\n"))


STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem;
  padding: 0 1rem; color: #1f2328; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem;
  border-bottom: 1px solid #d0d7de; }
.leak td { background: #ffebe9; }
h2.leaks { color: #a40e26; }
code { font-size: 13px; word-break: break-all; }
"""


def _row(cells: list[str], cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<tr{attr}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _where(item: Item) -> str:
    e = html.escape
    where = f"<code>{e(item.started_by)}</code><br>" if item.started_by else ""
    if item.element:
        where += f"<code>{e(item.element)}</code><br>"
    return where


def as_html(report: Report) -> str:
    """The report as a page of its own (every text from the storefront escaped)."""
    e = html.escape
    head = [
        f"<tr><th>What</th><th>Category</th><th>Seen</th><th>Where from{last}</th></tr>"
        for last in (", and the fix", "")
    ]
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        f"<title>Cookie scan of {e(report.start)}</title><style>{STYLE}</style>",
        f"</head><body><h1>Cookie scan of <code>{e(report.start)}</code></h1>",
        f"<p>Site {e(report.site or '?')}, consent service"
        f" <code>{e(report.service or '?')}</code>; {len(report.pages)} page(s),"
        " each visited before a choice, after Reject all and after Accept all.</p>",
    ]
    parts += [f"<p>Note: {e(n)}</p>" for n in report.notes]
    parts += [f"<p><strong>Problem:</strong> {e(p)}</p>" for p in report.problems]
    leaks = report.leaks
    if leaks:
        parts.append(
            f'<h2 class="leaks">Leaks ({e(leak_heading(report))})</h2><table>{head[0]}'
        )
        for item in leaks:
            parts.append(
                _row(
                    [
                        e(_what(item)),
                        e(_verdict(item)),
                        e(_phases(item.leaked)),
                        _where(item) + f"Fix: {e(fix(item))}",
                    ],
                    "leak",
                )
            )
        parts.append("</table>")
    else:
        title, _, rest = no_leaks(report).partition(": ")
        parts.append(f"<h2>{e(title)}</h2><p>{e(rest[:1].upper() + rest[1:])}</p>")
    for title, items in (
        ("Undeclared: no service of the site covers these", report.undeclared),
        ("Everything seen", report.items),
    ):
        parts.append(f"<h2>{e(title)} ({len(items)})</h2><table>{head[1]}")
        for item in items:
            parts.append(
                _row(
                    [
                        e(_what(item)),
                        e(_verdict(item)),
                        e(_phases(item.phases)),
                        _where(item),
                    ]
                )
            )
        parts.append("</table>")
    if report.unused:
        parts.append("<h2>Unused: declared, never seen</h2><ul>")
        parts += [f"<li>{e(n)}</li>" for n in report.unused]
        parts.append("</ul>")
    proposed = json.dumps({"services": report.proposed}, indent=2, ensure_ascii=False)
    parts.append(f"<h2>Proposed services</h2><pre><code>{e(proposed)}</code></pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


FORMATS = {"text": as_text, "json": as_json, "html": as_html}
