"""Who may do what on the config page: the three roles and their permissions.

``admin`` may do all an ``editor`` may, plus manage users and audit tokens;
``editor`` edits sites and reads statistics; ``auditor`` reads and edits
nothing on the page (the audit API is read with a bearer token).
"""

from __future__ import annotations

from typing import Literal

from .vocabulary import ROLES

Permission = Literal["manage_accounts", "edit_sites", "read_stats"]

PERMISSIONS: dict[str, frozenset[Permission]] = {
    "admin": frozenset({"manage_accounts", "edit_sites", "read_stats"}),
    "editor": frozenset({"edit_sites", "read_stats"}),
    "auditor": frozenset({"read_stats"}),
}
assert set(PERMISSIONS) == set(ROLES)

# What each role is for, in the words the page shows beside it.
DESCRIPTIONS = {
    "admin": "everything an editor does, plus users and audit tokens",
    "editor": "edits sites and reads statistics",
    "auditor": "reads the audit API and statistics; edits nothing",
}


def may(role: str, permission: Permission) -> bool:
    """Whether a user with ``role`` has ``permission`` (an unknown role has none)."""
    return permission in PERMISSIONS.get(role, frozenset())
