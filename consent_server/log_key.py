"""The log signing key: which key signs the log's checkpoints, read once at start-up.

``CONSENT_LOG_KEY`` holds the key itself (the first line ``consent-server
keygen`` prints), or ``CONSENT_LOG_KEY_FILE`` names a file holding it (what
``keygen --out`` writes). It is a secret of its own, apart from the cookie
secret and, ideally, from the database's machine: whoever holds it can sign
checkpoints.

With neither set, the service makes a key in its instance folder on first
start (``log-signing.key``) and keeps using it, so a single server, the demo
and the tests have signed checkpoints with no set-up. Outside demo mode it
says so at start-up: several servers must share one key, set explicitly.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app

from .cli.keys import default_origin, write_new_file
from .domain.note import BadKey, Signer
from .web.settings import BadSetting

AUTO_KEY_FILE = "log-signing.key"

log = logging.getLogger(__name__)


def _read(path: Path, setting: str) -> str:
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise BadSetting(setting, f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise BadSetting(setting, f"{path} is not a signing key") from None


def _parse(text: str, setting: str) -> Signer:
    try:
        return Signer.from_key(text)
    except BadKey as exc:
        raise BadSetting(
            setting, f"not a log signing key ({exc.message}); make one with keygen"
        ) from None


def _instance_key(app: Flask) -> Signer:
    path = Path(app.instance_path) / AUTO_KEY_FILE
    if not path.exists():
        try:
            write_new_file(path, Signer.generate(default_origin()).key + "\n")
        except FileExistsError:
            pass  # another process made it first: use theirs
        except BadKey as exc:
            raise BadSetting(
                "LOG_KEY", f"cannot name a key after this host ({exc.message})"
            ) from None
    return _parse(_read(path, "LOG_KEY_FILE"), "LOG_KEY_FILE")


def configure(app: Flask) -> None:
    """Load the log signing key for the app.

    :raise BadSetting: the key or its file cannot be used.
    """
    text = app.config.get("LOG_KEY")
    file = app.config.get("LOG_KEY_FILE")
    if text and file:
        raise BadSetting(
            "LOG_KEY", "set CONSENT_LOG_KEY or CONSENT_LOG_KEY_FILE, not both"
        )
    if text:
        signer = _parse(str(text), "LOG_KEY")
    elif file:
        signer = _parse(_read(Path(str(file)), "LOG_KEY_FILE"), "LOG_KEY_FILE")
    else:
        signer = _instance_key(app)
        if not app.config["DEMO"] and not app.testing:
            log.warning(
                "CONSENT_LOG_KEY is not set: checkpoints are signed with %s in the"
                " instance folder, beside the database. Keep the key elsewhere"
                " (consent-server keygen) and give every server the same one.",
                AUTO_KEY_FILE,
            )
    app.extensions["consent_log_signer"] = signer


def signer() -> Signer:
    """The app's log signing key."""
    key: Signer = current_app.extensions["consent_log_signer"]
    return key
