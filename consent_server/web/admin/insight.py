"""Insight: how one site's visitors choose, day by day, as charts, tables and CSV.

Read from the same statistics as ``GET /v1/audit/stats``. The charts are SVG
drawn on the server (``domain/charts.py``), inline in the page, each followed
by a table of its numbers; the CSV holds the same numbers, one row per day.
Admins, editors and auditors may all read it.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import DateField, SelectField, ValidationError

from ...domain import charts
from ...domain.errors import UnknownSite
from ...domain.insight import (
    CATEGORY_LABELS,
    MAX_DAYS,
    METHOD_LABELS,
    Insight,
    build,
    csv_text,
    percent,
    short_day,
)
from ...domain.vocabulary import METHODS, OPTIONAL
from ...store import sites, stats
from ...store.engine import get_db
from .session import me, require

bp = Blueprint("insight", __name__, url_prefix="/insight")

DEFAULT_DAYS = 30
DATE_MESSAGE = "Enter a date as year-month-day, such as 2026-03-01."
# Lines differ by dash as well as colour; every colour is at least 4.5:1 on white.
CATEGORY_STYLE = {
    "preferences": ("#1a56db", ""),
    "analytics": ("#b45309", "8 4"),
    "advertising": ("#7e22ce", "2 3"),
}
METHOD_COLOURS = {
    "accept_all": "#15803d",
    "reject_all": "#b91c1c",
    "custom": "#1a56db",
    "withdraw": "#475569",
}
GPC_STYLE = ("#0f766e", "")


# WTForms is untyped (setup.cfg allows that for forms.py only).
class InsightForm(FlaskForm):
    """Which site, and from which day to which day (both included)."""

    class Meta:
        # A GET form that changes nothing: no token to check.
        csrf = False

    site = SelectField(
        "Site", invalid_choice_message="Choose one of the sites in the list."
    )
    start = DateField(
        "From",
        name="from",
        invalid_value_message=DATE_MESSAGE,
    )
    end = DateField(
        "To",
        name="to",
        invalid_value_message=DATE_MESSAGE,
    )

    def validate_end(self, field: DateField) -> None:
        """The range runs forwards and is at most ``MAX_DAYS`` long."""
        start, end = self.start.data, field.data
        if end is None or start is None:
            return
        if end == dt.date.max:
            raise ValidationError("Choose an earlier date.")
        if end < start:
            raise ValidationError(
                "This date is before the From date: choose a later one."
            )
        if (end - start).days + 1 > MAX_DAYS:
            raise ValidationError(f"Choose a range of at most {MAX_DAYS} days.")


def _form() -> InsightForm:
    today = dt.datetime.now(dt.UTC).date()
    defaults = {"start": today - dt.timedelta(days=DEFAULT_DAYS - 1), "end": today}
    site_ids = stats.sites(get_db())
    form = InsightForm(
        formdata=request.args if request.args else None,
        site=site_ids[0] if site_ids else None,
        **defaults,
    )
    form.site.choices = site_ids
    for name, default in defaults.items():
        field = form[name]
        if field.raw_data and not "".join(field.raw_data).strip():
            # A date left empty means the default one, checked as if typed.
            field.raw_data, field.data, field.process_errors = [], default, []
    return form


def _insight(form: InsightForm) -> Insight:
    conn = get_db()
    site, start, end = form.site.data, form.start.data, form.end.data
    assert site is not None and start is not None and end is not None
    until = end + dt.timedelta(days=1)
    try:
        categories = list(sites.current_config(conn, site).categories)
    except UnknownSite:
        categories = list(OPTIONAL)
    return build(
        stats.daily(conn, site=site, since=start, until=until),
        site=site,
        start=start,
        end=end,
        visitors=stats.visitors(conn, site=site, since=start, until=until),
        categories=categories,
    )


def _charts(insight: Insight) -> dict[str, Markup]:
    labels = [short_day(d.day) for d in insight.days]
    span = f"{insight.start.isoformat()} to {insight.end.isoformat()}"
    rates = [
        charts.Series(
            CATEGORY_LABELS[k],
            [d.opt_in[k] for d in insight.days],
            *CATEGORY_STYLE[k],
        )
        for k in insight.categories
    ]
    methods = [
        charts.Series(
            METHOD_LABELS[m], [d.methods[m] for d in insight.days], METHOD_COLOURS[m]
        )
        for m in METHODS
    ]
    gpc = [charts.Series("GPC on", [d.gpc_share for d in insight.days], *GPC_STYLE)]
    return {
        "rates": Markup(
            charts.rate_chart(
                "rates-chart",
                f"Opt-in rate per category per day, {insight.site}, {span}",
                "Lines from 0 to 100 %; a gap is a day on which no one chose.",
                labels,
                rates,
            )
        ),
        "rates_legend": Markup(charts.legend(rates, "line")),
        "methods": Markup(
            charts.count_chart(
                "methods-chart",
                f"Choices per day by button, {insight.site}, {span}",
                "Stacked bars: accept all, reject all, customized and withdrawn,"
                " from the bottom up.",
                labels,
                methods,
            )
        ),
        "methods_legend": Markup(charts.legend(methods, "bar")),
        "gpc": Markup(
            charts.rate_chart(
                "gpc-chart",
                f"Share of choices made with GPC on, per day, {insight.site}, {span}",
                "A line from 0 to 100 %; a gap is a day on which no one chose.",
                labels,
                gpc,
            )
        ),
    }


def _page(
    form: InsightForm, insight: Insight | None, status: int
) -> ResponseReturnValue:
    return render_template(
        "admin/insight.html",
        account=me(),
        form=form,
        insight=insight,
        charts=_charts(insight) if insight else {},
        percent=percent,
        category_labels=CATEGORY_LABELS,
        method_labels=METHOD_LABELS,
        methods=METHODS,
        query={
            "site": form.site.data,
            "from": form.start.data.isoformat() if form.start.data else "",
            "to": form.end.data.isoformat() if form.end.data else "",
        },
    ), status


@bp.get("/")
@require("read_stats")
def index() -> ResponseReturnValue:
    """The charts, tables and headline figures of one site over a range of days."""
    form = _form()
    if not form.site.choices:
        return _page(form, None, 200)
    if not form.validate():
        return _page(form, None, 400)
    return _page(form, _insight(form), 200)


@bp.get("/insight.csv")
@require("read_stats")
def csv_file() -> ResponseReturnValue:
    """The same numbers as the page, as CSV: one row per day."""
    form = _form()
    if not form.site.choices or not form.validate():
        return _page(form, None, 400)
    insight = _insight(form)
    name = f"insight-{insight.site}-{insight.start}-{insight.end}.csv"
    return Response(
        csv_text(insight),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
