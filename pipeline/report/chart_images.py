"""The report's charts as PNG images (for report.docx): the same layouts as the HTML's
inline SVG (charts.py), drawn with Pillow and a CJK font when the system has one.

Word cannot show inline SVG reliably (LibreOffice and older Word versions drop it), so the
document carries pictures; the numbers behind every chart are also in its tables.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from pipeline.report.charts import BarChart, Heatmap, clip

SCALE = 2  # pixels per SVG unit, so the picture stays sharp when printed
INK = (34, 34, 34)
BAR = (31, 111, 139)
GRID = (220, 220, 220)
# Fonts tried in order; the first found draws the Chinese text (fonts-noto-cjk on Debian).
FONT_NAMES = ("Noto Sans CJK TC", "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans TC")


@lru_cache(maxsize=1)
def font_path() -> str | None:
    if not shutil.which("fc-match"):
        return None
    for name in FONT_NAMES:
        try:
            out = subprocess.run(["fc-match", "-f", "%{file}", name], capture_output=True,
                                 text=True, timeout=10, check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
        if out and "CJK" in out:
            return out
    return None


@lru_cache(maxsize=8)
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = font_path()
    if path:
        try:
            return ImageFont.truetype(path, px)
        except OSError:
            pass
    return ImageFont.load_default()


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    # Pillow's default compression: `optimize=True` tried every filter at level 9, 0.4 s of a
    # 25-meeting round's report.docx (in every re-run) for files 2% smaller.
    img.save(buf, format="PNG")
    return buf.getvalue()


def bar_png(ch: BarChart) -> bytes:
    w, h = ch.width * SCALE, ch.height * SCALE
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    f = _font(13 * SCALE)
    for b in ch.bars:
        y = int(b.y * SCALE)
        d.text(((ch.label_w - 8) * SCALE, y + 13 * SCALE), b.label, font=f, fill=INK,
               anchor="rs")
        x0 = ch.bar_x * SCALE
        d.rectangle([x0, y + 2 * SCALE, x0 + max(b.width, 1) * SCALE, y + 18 * SCALE],
                    fill=BAR)
        d.text((x0 + (b.width + 6) * SCALE, y + 15 * SCALE), b.text, font=f, fill=INK,
               anchor="ls")
    return _png(img)


def heatmap_png(hm: Heatmap, corner: str) -> bytes:
    f = _font(12 * SCALE)
    row_h, col_w = 24 * SCALE, 64 * SCALE
    head_w = 14 * 13 * SCALE
    head_h = 28 * SCALE
    cols = [clip(c, 5) for c, _ in hm.cols]
    w = head_w + col_w * len(cols) + 2
    h = head_h + row_h * len(hm.rows) + 2
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    d.text((6, head_h // 2), clip(corner, 12), font=f, fill=INK, anchor="lm")
    for j, c in enumerate(cols):
        d.text((head_w + j * col_w + col_w // 2, head_h // 2), c, font=f, fill=INK, anchor="mm")
    for i, r in enumerate(hm.rows):
        y = head_h + i * row_h
        d.text((6, y + row_h // 2), clip(r.header, 13), font=f, fill=INK, anchor="lm")
        for j, c in enumerate(r.cells):
            x = head_w + j * col_w
            a = max(0.0, min(1.0, c.alpha * 0.85))
            fill = tuple(int(255 - (255 - v) * a) for v in BAR)
            d.rectangle([x, y, x + col_w - 1, y + row_h - 1], fill=fill, outline=GRID)
            if c.text:
                d.text((x + col_w // 2, y + row_h // 2), c.text, font=f,
                       fill="white" if a > 0.5 else INK, anchor="mm")
    return _png(img)
