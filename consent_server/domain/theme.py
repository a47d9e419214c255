"""The banner's look: position, colours and the contrast they keep (WCAG AA)."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field, StringConstraints

from .errors import ConfigError
from .fields import Document, says

Position = Literal["bottom", "top", "center", "bottom-left", "bottom-right"]
POSITIONS: tuple[Position, ...] = get_args(Position)
# Colours are stored in one spelling, lower case.
Colour = Annotated[
    str,
    StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$"),
    says("must be a colour such as #1a56db"),
    AfterValidator(str.lower),
]


class Theme(Document):
    """Where the banner sits and its colours."""

    position: Annotated[Position, says("must be one of " + ", ".join(POSITIONS))] = (
        "bottom"
    )
    accent: Colour = Field(default="#1a56db", description="buttons and links")
    background: Colour = "#ffffff"
    text: Colour = "#111827"
    # A small "Cookie settings" button after the choice, so withdrawing
    # is always one click away even on pages without a settings link.
    floating: bool = True


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


def check_contrast(theme: Theme) -> None:
    """Banner text must stay readable (WCAG AA, 4.5:1): buttons are white on
    the accent, links are the accent on the background.

    :raise ConfigError: naming the colour that is too faint.
    """
    pairs = (
        ("theme.accent", theme.accent, "#ffffff", "the white button text"),
        ("theme.accent", theme.accent, theme.background, "theme.background"),
        ("theme.text", theme.text, theme.background, "theme.background"),
    )
    for field, fg, bg, against in pairs:
        ratio = contrast(fg, bg)
        if ratio < 4.5:
            raise ConfigError(
                field, f"must contrast at least 4.5:1 with {against} (is {ratio:.1f}:1)"
            )
