"""Print what the banner costs a storefront: the served, gzipped /s/demo/consent.js.

Beside it, the same script in Brotli, as browsers that accept ``br`` get it
(every current one over https).

The figure is code, styles, the demo site's config, the public keys and two
languages' texts (the site's default, English, and the visitor's French), as
a French visitor downloads them on a first visit: the larger case, since an
English visitor gets one language. It is compared with the budget (7,000
bytes, about 0.45 of vanilla-cookieconsent) and with vanilla-cookieconsent
3.1's 15,474 bytes gzipped, which carry no config and no texts.

Run from the project root, with the package installed::

    python bench/banner_size.py
"""

from __future__ import annotations

import gzip
import json
import sys
import tempfile
from pathlib import Path

import brotli

from consent_server import create_app
from consent_server.cli import init_database
from consent_server.web import banner

BUDGET = 7000
VANILLA_COOKIECONSENT = 15474


def gz(data: bytes) -> int:
    return len(gzip.compress(data, 9, mtime=0))


def br(data: bytes) -> int:
    return len(brotli.compress(data, quality=11))


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "size-bench-0123456789",
                "DATABASE_URL": f"sqlite:///{tmp}/size.sqlite",
            }
        )
        with app.app_context():
            init_database()
        client = app.test_client()
        served = client.get(
            "/s/demo/consent.js",
            headers={"Accept-Encoding": "gzip", "Accept-Language": "fr-FR,fr;q=0.9"},
        )
        in_brotli = client.get(
            "/s/demo/consent.js",
            headers={"Accept-Encoding": "br", "Accept-Language": "fr-FR,fr;q=0.9"},
        )
        config = client.get("/v1/sites/demo/config").get_json()
        app.extensions["consent_db"].dispose()

    static = Path(app.static_folder or "static")
    code = (static / "consent.min.js").read_bytes()
    css = banner.compact_css((static / "consent.css").read_text()).encode()
    carried = {k: config["languages"][k] for k in ("en", "fr")}
    texts = json.dumps(carried, ensure_ascii=False).encode()
    body = gzip.decompress(served.data)
    assert brotli.decompress(in_brotli.data) == body
    size, br_size = len(served.data), len(in_brotli.data)
    print(
        f"served /s/demo/consent.js  {len(body):6d} bytes, {size:6d} gzipped,"
        f" {br_size:6d} in Brotli ({br_size / size:.2f} of gzip)"
    )
    print(
        f"  code (consent.min.js)    {len(code):6d} bytes, {gz(code):6d} gzipped,"
        f" {br(code):6d} in Brotli alone"
    )
    print(
        f"  styles                   {len(css):6d} bytes, {gz(css):6d} gzipped,"
        f" {br(css):6d} in Brotli alone"
    )
    print(
        f"  texts, 2 of {len(config['languages'])} languages  {len(texts):6d} bytes, "
        f"{gz(texts):6d} gzipped, {br(texts):6d} in Brotli alone"
    )
    verdict = "within" if size <= BUDGET else "OVER"
    print(
        f"budget                     {BUDGET:6d} bytes gzipped: {verdict}"
        f" ({size / BUDGET:.0%})"
    )
    ratio = size / VANILLA_COOKIECONSENT
    print(
        f"vanilla-cookieconsent 3.1  {VANILLA_COOKIECONSENT:6d} bytes gzipped"
        f" (no config, no texts): ours is {ratio:.2f} of it"
    )
    return 0 if size <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
