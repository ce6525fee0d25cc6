"""Windows of a track's recent past, drawn from the 60 Hz motion sequences (torch).

A temporal lifter reads the current frame and the ``W - 1`` frames before it, as the node keeps
them per track. Each drawn window is what a camera at some frame rate would have delivered:

- a frame rate drawn log-uniformly from ``rate_hz`` (the stamps jittered by ``stamp_jitter`` of
  a period), the current frame anywhere in a sequence, earlier frames at the stamps before it
  (positions interpolated between the 60 Hz rows);
- frames the track does not have: before the sequence starts, dropped (``frame_drop``), or a
  history cut short (``history_cut``: the track began recently);
- now and then (``splice``) the older part of the history from another sequence, as when a
  tracker hands one person's id to another: the lifter learns not to trust such a past.

Returns world poses (metres, y up), which frames are present, and each frame's age (seconds
before the current one). Frame 0 is the current frame. Seeded by the caller's generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from pose_lifter.runtime.joints import MIDHIP
from pose_lifter_training.sequences import SOURCE_RATE_HZ, Sequence


@dataclass
class TemporalSection:
    """How training windows are drawn (see the module docstring).

    Attributes:
        rate_hz: range of the camera frame rates (log-uniform).
        stamp_jitter: standard deviation of a stamp's error, fraction of the frame period.
        frame_drop: probability of each earlier frame being missing.
        history_cut: probability of the track having begun within the window.
        new_track: probability of the window holding the current frame only (a track's first
            frame: the node lifts it from that frame alone; applied by the trainer, which
            leaves such windows out of the steadiness terms).
        splice: probability of the older history belonging to another sequence.
    """

    rate_hz: tuple[float, float] = (8.0, 60.0)
    stamp_jitter: float = 0.05
    frame_drop: float = 0.05
    history_cut: float = 0.15
    new_track: float = 0.0
    splice: float = 0.03


class Windows(NamedTuple):
    """B windows of W frames.

    Attributes:
        joints_world: ``(B, W, 15, 3)`` metres, y up (absent frames: copies of a present one).
        present: ``(B, W)`` bool, the frames the track has (frame 0 always).
        age_s: ``(B, W)`` seconds before the current frame (meaningless where absent).
    """

    joints_world: torch.Tensor
    present: torch.Tensor
    age_s: torch.Tensor


class WindowSampler:
    """Draws :class:`Windows` from a list of 60 Hz :class:`Sequence` objects."""

    def __init__(self, sequences: list[Sequence], window: int, section: TemporalSection):
        if not sequences:
            raise ValueError("no sequences to draw windows from")
        self.window = int(window)
        self.section = section
        self.joints = torch.from_numpy(
            np.concatenate([s.joints_world for s in sequences]).astype(np.float32)
        )
        lengths = np.array([len(s) for s in sequences])
        self.starts = torch.from_numpy(np.concatenate([[0], np.cumsum(lengths)[:-1]]))
        self.lengths = torch.from_numpy(lengths)
        self.weights = self.lengths.double() / self.lengths.sum()

    def sample(self, batch: int, generator: torch.Generator, extra: int = 0) -> Windows:
        """Draw ``batch`` windows of ``window + extra`` frames.

        ``extra`` older frames: the windows of the frames just before the current one overlap
        this one.
        """
        s, w = self.section, self.window + extra
        sequence = torch.multinomial(self.weights, batch, replacement=True, generator=generator)
        low, high = (math.log(r) for r in s.rate_hz)
        rate = torch.exp(low + (high - low) * torch.rand(batch, generator=generator))
        period_rows = SOURCE_RATE_HZ / rate  # source rows per frame
        steps = torch.arange(w, dtype=torch.float64)
        jitter = s.stamp_jitter * torch.randn(batch, w, generator=generator, dtype=torch.float64)
        jitter[:, 0] = 0.0
        offsets = (steps + jitter).clamp(min=0.0) * period_rows[:, None].double()  # rows back
        length = self.lengths[sequence].double()
        current = torch.rand(batch, generator=generator, dtype=torch.float64) * (length - 1)
        rows = current[:, None] - offsets
        present = rows >= 0
        present &= torch.rand(batch, w, generator=generator) >= s.frame_drop
        cut = torch.rand(batch, generator=generator) < s.history_cut
        keep = torch.randint(1, w + 1, (batch,), generator=generator)
        present &= ~cut[:, None] | (torch.arange(w)[None] < keep[:, None])
        present[:, 0] = True
        rows = rows.clamp(min=0.0)
        joints = self._interpolate(sequence, rows)
        spliced = torch.rand(batch, generator=generator) < s.splice
        if spliced.any():
            count = int(spliced.sum())
            other = self.sample_like(count, rows[spliced], generator)
            since = torch.randint(1, w, (count,), generator=generator)
            older = torch.arange(w)[None] >= since[:, None]
            # the other person stood near this one when the ids were swapped (0.5 m apart)
            pick = torch.arange(count)
            gap = joints[spliced][pick, since - 1, MIDHIP] - other[pick, since, MIDHIP]
            gap[:, 1] = 0.0
            near = 0.5 * torch.nn.functional.normalize(
                torch.randn(count, 3, generator=generator) * torch.tensor([1.0, 0.0, 1.0]), dim=1
            )
            other = other + (gap + near)[:, None, None, :]
            joints[spliced] = torch.where(older[..., None, None], other, joints[spliced])
        age = (rows[:, :1] - rows) / SOURCE_RATE_HZ
        # absent frames repeat the current pose (never read: their joints are all missing)
        joints = torch.where(present[..., None, None], joints, joints[:, :1])
        return Windows(joints, present, age.float())

    def sample_like(
        self, batch: int, rows: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        """Joints of other sequences at the same row offsets ``(batch, W)`` from their start."""
        sequence = torch.multinomial(self.weights, batch, replacement=True, generator=generator)
        shifted = rows - rows[:, -1:] + torch.rand(batch, 1, generator=generator).double() * (
            self.lengths[sequence, None].double() - 1 - (rows[:, :1] - rows[:, -1:])
        ).clamp(min=0.0)
        return self._interpolate(sequence, shifted.clamp(min=0.0))

    def _interpolate(self, sequence: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """Joints ``(B, W, 15, 3)`` at fractional ``rows`` of each drawn sequence."""
        last = (self.lengths[sequence] - 1)[:, None].double()
        rows = torch.minimum(rows, last)
        below = rows.floor()
        above = torch.minimum(below + 1, last)
        weight = (rows - below).float()[..., None, None]
        base = self.starts[sequence][:, None]
        return (1 - weight) * self.joints[base + below.long()] + weight * self.joints[
            base + above.long()
        ]
