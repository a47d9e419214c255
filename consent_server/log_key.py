"""The log signing key: which key signs the log's checkpoints, read once at start-up.

``CONSENT_LOG_KEY`` holds the key itself (the first line ``consent-server
keygen`` prints), or ``CONSENT_LOG_KEY_FILE`` names a file holding it (what
``keygen --out`` writes). It is a secret of its own, apart from the cookie
secret and, ideally, from the database's machine: whoever holds it can sign
checkpoints.

With neither set, the demo, the tests and the commands that sign nothing
use a key made in the instance folder (``log-signing.key``), so that they
need no set-up. The service itself, outside demo mode, refuses to start
without one: a key beside the database it vouches for lets whoever can
write that database sign a log of their making, and receipts and witnesses
are only as strong as the key; so is ``consent-server checkpoint``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from .cli.keys import default_origin, write_new_file
from .domain.note import BadKey, Signer
from .web.settings import BadSetting

AUTO_KEY_FILE = "log-signing.key"


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


def configure(app: Flask, required: bool = True) -> None:
    """Load the log signing key for the app; unless ``required`` (outside
    demo mode and tests), the instance folder's when none is set.

    :raise BadSetting: the key or its file cannot be used, or none is set
        and one is required.
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
    elif not automatic_refused(app):
        signer = _instance_key(app)
        app.extensions["consent_log_key_automatic"] = True
    elif required:
        raise BadSetting("LOG_KEY", missing(app))
    else:
        # A command that signs nothing: the instance folder's key if an
        # earlier version made one, else a key of this process's alone.
        # Neither signs a checkpoint (consent-server checkpoint refuses).
        left = Path(app.instance_path) / AUTO_KEY_FILE
        if left.exists():
            signer = _parse(_read(left, "LOG_KEY_FILE"), "LOG_KEY_FILE")
        else:
            signer = Signer.generate(default_origin())
            app.extensions["consent_log_key_unknown"] = True
        app.extensions["consent_log_key_automatic"] = True
    app.extensions["consent_log_signer"] = signer


def automatic_refused(app: Flask) -> bool:
    """Whether the app may not sign with a key of the instance folder's."""
    return not app.config["DEMO"] and not app.testing


def missing(app: Flask) -> str:
    """What to do when no log signing key is set, in one sentence."""
    left = Path(app.instance_path) / AUTO_KEY_FILE
    keep = (
        f"; to keep the key an earlier start made, move {left} there and name it"
        if left.exists()
        else ""
    )
    return (
        "is not set, and the service signs its log's checkpoints with it: make"
        " one with consent-server keygen --out FILE, keep it away from the"
        f" database and set CONSENT_LOG_KEY_FILE{keep} (every server of one log"
        " the same)"
    )


def signer() -> Signer:
    """The app's log signing key."""
    key: Signer = current_app.extensions["consent_log_signer"]
    return key
