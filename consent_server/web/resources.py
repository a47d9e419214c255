"""Where the banner's files and the page templates are, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent


def resource_folder(name: str) -> str:
    """``static`` or ``templates``: copied into the package by an install,
    beside the package in a checkout."""
    installed = PACKAGE / name
    return str(installed if installed.is_dir() else PACKAGE.parent / name)
