"""The hello-world Flask application bench/http_load.py measures as its baseline.

Served by the same gunicorn settings as consent-server (deploy/gunicorn.conf.py),
it is what the framework and the server give for nothing: every figure of the
service is read as a ratio to this one, measured in the same run.
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
