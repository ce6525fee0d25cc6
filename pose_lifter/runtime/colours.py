"""One colour per person, the same in RViz, the debug image, the HTML report and the viewer.

The palette is Okabe-Ito's colour-blind-friendly set (black left out), RGB in [0, 1]. A person's
colour comes from a stable hash of the id (:func:`colour_for_id`: the same id has the same colour
in every process and every view); people without an id take their index
(:func:`colour_for_index`).
"""

from __future__ import annotations

import zlib

RGB = tuple[float, float, float]

#: Okabe-Ito without black, ordered so the first track ids (p1, p2, ...) get distinct colours.
PALETTE: tuple[RGB, ...] = (
    (0.800, 0.475, 0.655),  # reddish purple
    (0.835, 0.369, 0.0),  # vermillion
    (0.337, 0.706, 0.914),  # sky blue
    (0.0, 0.447, 0.698),  # blue
    (0.902, 0.624, 0.0),  # orange
    (0.941, 0.894, 0.259),  # yellow
    (0.6, 0.6, 0.6),  # grey
    (0.0, 0.620, 0.451),  # bluish green
)


def colour_for_id(person_id: str) -> RGB:
    """Palette colour of a person id (same id -> same colour in every process)."""
    return PALETTE[zlib.crc32(person_id.encode("utf-8")) % len(PALETTE)]


def colour_for_index(index: int) -> RGB:
    """Palette colour of the ``index``-th person of a message without ids."""
    return PALETTE[index % len(PALETTE)]


def to_hex(rgb: RGB) -> str:
    """``#rrggbb`` of an RGB colour in [0, 1] (Plotly, HTML)."""
    return "#" + "".join(f"{round(255 * channel):02x}" for channel in rgb)


def to_uint8(rgb: RGB) -> tuple[int, int, int]:
    """0-255 channels of an RGB colour in [0, 1] (OpenCV drawing on RGB images)."""
    return tuple(round(255 * channel) for channel in rgb)
