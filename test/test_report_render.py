"""The replay report rendered by a real browser (headless Chromium).

The replay report rendered by a real browser: headless Chromium (Debian's ``chromium`` package,
installed by scripts/setup_env.sh) screenshots report.html and the skeleton must be on the screen,
in the first person's colour, where the front view is drawn.

The front and top views are plain SVG scatter plots, so the check does not depend on WebGL; the
3D (WebGL) view is only reported. Skips only when chromium is not installed.
"""

from __future__ import annotations

import shutil
import subprocess

import cv2
import numpy as np
import pytest

from pose_lifter.tools.bag_io import write_bag
from pose_lifter.tools.replay import replay_offline
from pose_lifter.runtime.colours import colour_for_id, to_hex
from pose_lifter.tools.sample_bag import SAMPLE_BAG, cmu_ground_truth_messages
from ros_helpers import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WINDOW = (1000, 800)
# Regions of the 1000x800 screenshot (x0, y0, x1, y1): the figure's 2x2 grid fills the top 800 px.
FRONT_VIEW = (20, 420, 480, 700)
THREE_D = (20, 60, 480, 350)
OVERLAY = (520, 60, 980, 350)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium not installed "
    "(scripts/setup_env.sh installs it: apt-get install -y chromium)",
)


def screenshot(html, tmp_path):
    png = tmp_path / "shot.png"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--enable-unsafe-swiftshader",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        f"--screenshot={png}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--virtual-time-budget=10000",
        html.resolve().as_uri(),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and png.exists(), run.stderr[-2000:]
    image = cv2.imread(str(png))
    assert image is not None and image.shape[:2] == (WINDOW[1], WINDOW[0]), png
    return image


def colour_pixels(image, region, hex_colour, tolerance=40):
    """Pixels of ``region`` within ``tolerance`` (per channel) of ``hex_colour``."""
    x0, y0, x1, y1 = region
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    patch = image[y0:y1, x0:x1, ::-1].astype(int)  # BGR -> RGB
    return int((np.abs(patch - rgb).max(axis=2) <= tolerance).sum())


def test_report_shows_the_skeleton_in_headless_chromium(tmp_path):
    messages, _ = cmu_ground_truth_messages(
        REPO / "training" / "data" / "cmu_mocap_15j.npz", count=5
    )
    bag = write_bag(tmp_path / "cmu", messages, "mcap")
    result = replay_offline(bag, report_dir=tmp_path / "report")
    image = screenshot(result.report_html, tmp_path)
    first, second = to_hex(colour_for_id("p1")), to_hex(colour_for_id("p2"))
    first_pixels = colour_pixels(image, FRONT_VIEW, first)
    second_pixels = colour_pixels(image, FRONT_VIEW, second)
    cv2.imwrite(
        str(tmp_path / "front_view.png"),
        image[FRONT_VIEW[1] : FRONT_VIEW[3], FRONT_VIEW[0] : FRONT_VIEW[2]],
    )
    # two persons: bones 4 px wide over ~1.7 m of a ~270 px tall axis -> hundreds of pixels each
    assert first_pixels > 300 and second_pixels > 300, (first_pixels, second_pixels, tmp_path)
    # a blank page would have none; the rest of the page is white/grey, never the palette
    assert colour_pixels(image, (0, 0, WINDOW[0], 30), first) < 50
    print(f"3D (WebGL) view: {colour_pixels(image, THREE_D, first)} px of {first}")


def test_camera_report_shows_image_and_skeleton(tmp_path):
    result = replay_offline(SAMPLE_BAG, report_dir=tmp_path / "report", max_frames=3)
    image = screenshot(result.report_html, tmp_path)
    first_id_colour = to_hex(colour_for_id("p1"))
    assert colour_pixels(image, FRONT_VIEW, first_id_colour) > 100
    x0, y0, x1, y1 = OVERLAY
    overlay = image[y0:y1, x0:x1]
    # the street photo is behind the 2D keypoints: a varied, mostly non-white patch
    assert (overlay.min(axis=2) < 200).mean() > 0.5 and overlay.std() > 20
