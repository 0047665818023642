"""Fonts for charts and reports: a CJK font so Chinese labels render, and a glyph check.

Charts carry Chinese labels by default. Matplotlib's bundled DejaVu Sans has no
Chinese glyphs, so ``use_cjk_font`` finds a CJK font installed on the machine
(``setup.sh`` installs Debian's fonts-wqy-microhei, WenQuanYi Micro Hei) and
makes it matplotlib's first sans-serif choice. ``missing_glyphs`` lists the
characters of a text the chosen font cannot draw, and ``check_figure`` refuses a
finished chart that would show empty boxes, naming the characters and the
install command. English charts (``use_fonts("en")``) need no CJK font unless a
label itself is Chinese.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import matplotlib
from matplotlib import font_manager

#: Fonts tried in order; the first one installed is used.
CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
INSTALL_HINT = "install a CJK font: apt-get install -y fonts-wqy-microhei (setup.sh does this)"


class FontError(RuntimeError):
    """No font can draw the labels."""


@lru_cache(maxsize=1)
def cjk_font_file() -> Path | None:
    """Path of an installed CJK font, or None."""
    for candidate in CJK_FONT_FILES:
        if Path(candidate).is_file():
            return Path(candidate)
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(["fc-list", ":lang=zh", "-f", "%{file}\n"], capture_output=True, text=True,
                                 timeout=10).stdout.split()
        except (OSError, subprocess.SubprocessError):
            out = []
        for line in out:
            if Path(line).is_file():
                return Path(line)
    return None


@lru_cache(maxsize=1)
def use_cjk_font() -> str:
    """Register the CJK font with matplotlib and put it first; returns its family name.

    Raises:
        FontError: no CJK font is installed.
    """
    path = cjk_font_file()
    if path is None:
        raise FontError(f"no font with Chinese glyphs found; {INSTALL_HINT}")
    font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = [name, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False  # the CJK font lacks U+2212
    matplotlib.rcParams["svg.fonttype"] = "path"  # SVGs carry outlines, so they look right without the font
    matplotlib.rcParams["pdf.fonttype"] = 42
    return name


def use_fonts(lang: str) -> str | None:
    """Fonts for charts in ``lang``: Chinese needs the CJK font; English uses it when installed.

    Returns:
        The CJK family name, or None (English on a machine without one).

    Raises:
        FontError: Chinese asked for and no CJK font is installed.
    """
    if lang == "zh":
        return use_cjk_font()
    try:
        return use_cjk_font()
    except FontError:
        matplotlib.rcParams["font.family"] = "sans-serif"
        matplotlib.rcParams["font.sans-serif"] = ["DejaVu Sans"]
        return None


@lru_cache(maxsize=4)
def _codepoints(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTCollection, TTFont

    if path.lower().endswith((".ttc", ".otc")):
        fonts = TTCollection(path).fonts[:1]
    else:
        fonts = [TTFont(path, lazy=True)]
    points: set[int] = set()
    for font in fonts:
        points.update(font.getBestCmap().keys())
    return frozenset(points)


def missing_glyphs(text: str) -> set[str]:
    """Characters of ``text`` that neither the CJK font nor DejaVu Sans (the fallback) can draw."""
    path = cjk_font_file()
    covered = set(_codepoints(str(path))) if path else set()
    dejavu = font_manager.findfont("DejaVu Sans")
    covered |= _codepoints(dejavu)
    return {ch for ch in text if not ch.isspace() and ord(ch) not in covered}


def check_figure(fig, name: str = "chart") -> None:
    """Refuse a figure some of whose characters no installed font can draw.

    Raises:
        FontError: naming the characters, the text they are in, and how to install a font.
    """
    from matplotlib.text import Text

    import warnings

    with warnings.catch_warnings():
        # matplotlib's own "Glyph ... missing" warning would only repeat the error raised below.
        warnings.filterwarnings("ignore", message=".*[Gg]lyph.*missing")
        fig.canvas.draw()  # tick labels exist only once drawn
    for text in fig.findobj(Text):
        missing = missing_glyphs(text.get_text()) if text.get_visible() else set()
        if missing:
            chars = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in sorted(missing))
            raise FontError(f"{name}: no installed font can draw {chars} in {text.get_text()!r}; {INSTALL_HINT}")
