"""`consent-server scan`: crawl a storefront in headless Chromium and report leaks."""

from __future__ import annotations

import click

from ..domain.printable import printable
from ..domain.site_config import SITE_ID

# Exit statuses a shop's CI can tell apart: 1 is a finding, 2 a scan that
# could not do its job (as click's own usage errors).
LEAK = 1
CANNOT_SCAN = 2


class CannotScan(click.ClickException):
    """The scan could not run: one plain line, exit 2."""

    exit_code = CANNOT_SCAN


@click.command("scan")
@click.argument("url")
@click.option(
    "--site",
    metavar="SITE",
    help="The site id [default: the one the page's consent script names].",
)
@click.option(
    "--service",
    metavar="URL",
    help="The consent service [default: the one the page's script comes from].",
)
@click.option(
    "--pages",
    default=5,
    show_default=True,
    type=click.IntRange(0, 100),
    help="How many same-origin pages to visit besides the start page.",
)
@click.option(
    "--format",
    "form",
    default="text",
    show_default=True,
    type=click.Choice(["text", "json", "html"]),
)
@click.option(
    "--token",
    metavar="TOKEN",
    envvar="CONSENT_SCAN_TOKEN",
    help="A token of scope scan (create-token NAME --scope scan); only"
    " requests to --service carry it, which it needs [env: CONSENT_SCAN_TOKEN].",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 on undeclared cookies and hosts too, not only on leaks.",
)
@click.option(
    "--timeout",
    default=600,
    show_default=True,
    type=click.IntRange(10, 3600),
    help="Stop after this many seconds, reporting what was seen.",
)
@click.option(
    "--chromium",
    default="/usr/bin/chromium",
    show_default=True,
    help="The Chromium program.",
)
@click.option(
    "--chromedriver",
    default="/usr/bin/chromedriver",
    show_default=True,
    help="The chromedriver program.",
)
@click.option(
    "--chromium-arg",
    "arguments",
    multiple=True,
    metavar="SWITCH",
    help="One more Chromium switch (repeat it): a proxy, host rules, ...",
)
def scan_command(
    url: str,
    site: str | None,
    service: str | None,
    pages: int,
    form: str,
    token: str | None,
    strict: bool,
    timeout: int,
    chromium: str,
    chromedriver: str,
    arguments: tuple[str, ...],
) -> None:
    """Crawl a storefront before a choice, after Reject all and after Accept all.

    Reports leaks (anything non-essential before a choice or after Reject
    all), undeclared and unused services, and proposes the site's services.
    Exit 1 on a leak, 2 when the scan could not run.
    """
    from ..scan.crawl import Chromium, ScanError
    from ..scan.formats import FORMATS
    from ..scan.run import scan

    for address in (url, service):
        if address is not None and not address.startswith(("http://", "https://")):
            raise CannotScan(f"{printable(address)} is not an http or https address")
    if site is not None and not SITE_ID.fullmatch(site):
        raise CannotScan(f"{printable(site)} is not a site id")
    if token and not service:
        # Else the token would go wherever the page's script tag points,
        # which the page, not the shop's operator, decides.
        raise CannotScan(
            "--token needs --service URL: the token is sent to that consent"
            " service only"
        )
    try:
        report = scan(
            url,
            Chromium(chromium, chromedriver, arguments),
            pages,
            timeout,
            site=site,
            service=service,
            token=token,
        )
    except ScanError as exc:
        raise CannotScan(printable(str(exc))) from None
    click.echo(FORMATS[form](report))
    if report.leaks or (strict and report.undeclared):
        raise SystemExit(LEAK)
    if report.problems:
        raise SystemExit(CANNOT_SCAN)
