"""The banner's look: position, colours and the contrast they keep (WCAG AA)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import ConfigError

POSITIONS = ("bottom", "top", "center", "bottom-left", "bottom-right")
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def _luminance(colour: str) -> float:
    # WCAG 2 relative luminance of an #rrggbb colour.
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours, 1 to 21."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def check_contrast(theme: Mapping[str, Any]) -> None:
    # Banner text must stay readable (WCAG AA, 4.5:1): buttons are white on
    # the accent, links are the accent on the background.
    pairs = (
        ("theme.accent", theme["accent"], "#ffffff", "the white button text"),
        ("theme.accent", theme["accent"], theme["background"], "theme.background"),
        ("theme.text", theme["text"], theme["background"], "theme.background"),
    )
    for field, fg, bg, against in pairs:
        ratio = contrast(fg, bg)
        if ratio < 4.5:
            raise ConfigError(
                field, f"must contrast at least 4.5:1 with {against} (is {ratio:.1f}:1)"
            )
