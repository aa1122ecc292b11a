"""Pictures of image grids with their rows and columns labelled and gaps between the tiles.

Used by the evidence scripts (through evidence.grid) and by scripts/demo_report.py. Needs only
Pillow; the labels use DejaVu Sans when it is installed, else Pillow's built-in font.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

GAP = 4          # pixels between tiles (in the scaled picture)
MARGIN = 6       # pixels around the labels
BACKGROUND = 255
INK = 0
FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf")


def _font(size: int):
    for name in FONTS:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default()


def _text_size(draw: ImageDraw.ImageDraw, text: str, font) -> Tuple[int, int]:
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    return right - left, bottom - top


def labelled_grid(rows: Sequence[Sequence[np.ndarray]], path: Path, shape: Tuple[int, int] = (28, 28), scale: int = 3,
                  row_labels: Optional[Sequence[str]] = None, column_labels: Optional[Sequence[str]] = None,
                  title: Optional[str] = None) -> None:
    """Saves rows of images (values in [0, 1], each reshaped to `shape`) as one greyscale PNG:
    tiles scaled `scale` times with GAP pixels between them, `row_labels` left of the rows,
    `column_labels` above the columns and an optional `title` above everything."""
    height, width = shape[0] * scale, shape[1] * scale
    columns = max(len(row) for row in rows)
    font = _font(13)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    label_width = max((_text_size(probe, l, font)[0] for l in row_labels or []), default=0)
    left = label_width + 2 * MARGIN if row_labels else GAP
    line = _text_size(probe, "Ag", font)[1] + MARGIN
    top = (line if title else 0) + (line if column_labels else 0) + GAP
    picture = Image.new("L", (left + columns * (width + GAP), top + len(rows) * (height + GAP)), BACKGROUND)
    draw = ImageDraw.Draw(picture)
    if title:
        draw.text((left, MARGIN // 2), title, fill=INK, font=font)
    for c, label in enumerate(column_labels or []):
        w, _ = _text_size(draw, label, font)
        draw.text((left + c * (width + GAP) + (width - w) // 2, top - line), label, fill=INK, font=font)
    for r, row in enumerate(rows):
        y = top + r * (height + GAP)
        if row_labels:
            w, h = _text_size(draw, row_labels[r], font)
            draw.text((left - MARGIN - w, y + (height - h) // 2), row_labels[r], fill=INK, font=font)
        for c, tile in enumerate(row):
            pixels = (np.clip(np.reshape(tile, shape), 0, 1) * 255).astype(np.uint8)
            image = Image.fromarray(pixels).resize((width, height), Image.NEAREST)
            picture.paste(image, (left + c * (width + GAP), y))
    picture.save(path, optimize=True)
