"""Motion sequences seen by static virtual cameras, at any frame rate (numpy).

The 60 Hz mocap sequences (``motion_sequences_60hz.npz``: world frame, metres, y up, floor near
y = 0) are cut at their flagged source glitches, resampled to the wanted rate by linear
interpolation (any rate up to 60 Hz, e.g. 25 Hz), and seen through one static pinhole camera per
sequence: the camera optical frame (x right, y down, z forward), pixels
``u = fx x / z + cx``. Cameras stand around the centre of the sequence's root trajectory, aimed
at it, as a robot's or a lab's camera would. A detector's 2D error is added afterwards
(:mod:`pose_lifter_training.noise`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose_lifter.runtime.joints import MIDHIP

SOURCE_RATE_HZ = 60.0
#: Pieces of sequences shorter than this (seconds) after the glitch cuts are left out.
MIN_PIECE_S = 1.0


@dataclass(frozen=True)
class Sequence:
    """One contiguous piece of motion (world frame, metres, y up) at ``rate_hz``.

    Attributes:
        name: ``<dataset>/<split>/<source name>[#<piece>]``.
        dataset, split, action: as in the data file.
        joints_world: ``(T, 15, 3)`` float64.
        rate_hz: frames per second.
    """

    name: str
    dataset: str
    split: str
    action: str
    joints_world: np.ndarray
    rate_hz: float = SOURCE_RATE_HZ

    def __len__(self) -> int:
        return len(self.joints_world)


def load_sequences(
    path: str | Path, dataset: str | None = None, split: str | None = None
) -> list[Sequence]:
    """Read the 60 Hz sequences, cut at glitch frames (both rows of a glitch step are left out).

    ``dataset`` (``cmu``/``hdm05``) and ``split`` (``train``/``test``) select; None keeps all.
    """
    with np.load(path, allow_pickle=False) as archive:
        joints = archive["joints_world"].astype(np.float64)
        index = archive["sequence_index"]
        glitch = archive["glitch"]
        datasets, splits = archive["sequence_dataset"], archive["sequence_split"]
        names, actions = archive["sequence_name"], archive["sequence_action"]
    sequences = []
    min_frames = int(MIN_PIECE_S * SOURCE_RATE_HZ)
    for s in range(len(names)):
        if (dataset and datasets[s] != dataset) or (split and splits[s] != split):
            continue
        rows = np.flatnonzero(index == s)
        good = ~glitch[rows]
        # contiguous runs of good rows
        edges = np.flatnonzero(np.diff(np.concatenate([[0], good.astype(int), [0]])))
        for piece, (start, stop) in enumerate(zip(edges[::2], edges[1::2])):
            if stop - start < min_frames:
                continue
            suffix = f"#{piece}" if len(edges) > 2 else ""
            sequences.append(
                Sequence(
                    f"{datasets[s]}/{splits[s]}/{names[s]}{suffix}",
                    str(datasets[s]),
                    str(splits[s]),
                    str(actions[s]),
                    joints[rows[start:stop]],
                )
            )
    return sequences


def resample(sequence: Sequence, rate_hz: float) -> Sequence:
    """Return ``sequence`` at ``rate_hz`` (linear interpolation between source frames)."""
    if not 0 < rate_hz <= sequence.rate_hz:
        raise ValueError(f"rate must be in (0, {sequence.rate_hz}] Hz, got {rate_hz}")
    duration = (len(sequence) - 1) / sequence.rate_hz
    times = np.arange(0.0, duration + 1e-9, 1.0 / rate_hz) * sequence.rate_hz
    low = np.minimum(np.floor(times).astype(int), len(sequence) - 1)
    high = np.minimum(low + 1, len(sequence) - 1)
    weight = (times - low)[:, None, None]
    joints = sequence.joints_world
    resampled = (1.0 - weight) * joints[low] + weight * joints[high]
    return Sequence(
        sequence.name, sequence.dataset, sequence.split, sequence.action, resampled, rate_hz
    )


@dataclass(frozen=True)
class CameraRanges:
    """Ranges (uniform) of a sequence's static camera.

    Defaults: the data files' cameras (3-8 m from the trajectory's centre, 0.5-2.5 m high,
    f 600-1400 px, 1280x720): a person 1.7 m tall is 130-790 px tall (median about 330 px).
    """

    distance_m: tuple[float, float] = (3.0, 8.0)
    height_m: tuple[float, float] = (0.5, 2.5)
    focal_px: tuple[float, float] = (600.0, 1400.0)
    image_size: tuple[int, int] = (1280, 720)


@dataclass(frozen=True)
class SequenceView:
    """One sequence seen by one static camera.

    Attributes:
        joints_cam: ``(T, 15, 3)`` metres, camera optical frame.
        pixels: ``(T, 15, 2)`` exact projections (pixels, origin top-left).
        visible: ``(T, 15)`` bool: in front of the camera and inside the image.
        camera_matrix: ``K`` ``(3, 3)``. image_size: ``(width, height)``.
        stamps_s: ``(T,)`` seconds from the first frame.
    """

    joints_cam: np.ndarray
    pixels: np.ndarray
    visible: np.ndarray
    camera_matrix: np.ndarray
    image_size: tuple[int, int]
    stamps_s: np.ndarray


def look_at_rotation(camera_m: np.ndarray, target_m: np.ndarray) -> np.ndarray:
    """World (y up) -> optical frame rotation of a camera at ``camera_m`` aimed at ``target_m``."""
    forward = target_m - camera_m
    forward = forward / np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right = right / np.linalg.norm(right)
    down = np.cross(forward, right)
    return np.stack([right, down, forward])


def view_sequence(
    sequence: Sequence, rng: np.random.Generator, ranges: CameraRanges = CameraRanges()
) -> SequenceView:
    """See ``sequence`` through one static camera drawn from ``ranges`` (seeded by ``rng``)."""
    root = sequence.joints_world[:, MIDHIP]
    centre = 0.5 * (root.min(axis=0) + root.max(axis=0))
    centre[1] = np.median(root[:, 1])
    azimuth = rng.uniform(0.0, 2 * np.pi)
    distance = rng.uniform(*ranges.distance_m)
    camera = np.array(
        [
            centre[0] + distance * np.cos(azimuth),
            rng.uniform(*ranges.height_m),
            centre[2] + distance * np.sin(azimuth),
        ]
    )
    rotation = look_at_rotation(camera, centre)
    joints_cam = (sequence.joints_world - camera) @ rotation.T
    focal = rng.uniform(*ranges.focal_px)
    width, height = ranges.image_size
    matrix = np.array([[focal, 0.0, width / 2], [0.0, focal, height / 2], [0.0, 0.0, 1.0]])
    depth = joints_cam[..., 2]
    pixels = focal * joints_cam[..., :2] / np.maximum(depth, 0.1)[..., None] + matrix[:2, 2]
    inside = (pixels >= 0).all(-1) & (pixels < [width, height]).all(-1) & (depth > 0.1)
    stamps = np.arange(len(sequence)) / sequence.rate_hz
    return SequenceView(joints_cam, pixels, inside, matrix, (width, height), stamps)
