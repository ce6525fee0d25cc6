"""One-Euro filtering of 3D skeletons per track (Casiez et al., CHI 2012; pure numpy, no ROS).

The filter is a first-order low-pass whose cutoff rises with speed:
``cutoff = min_cutoff + beta * |dx/dt|`` (per coordinate), so slow motion is smoothed strongly
(less jitter) and fast motion lags little. Time comes from message stamps (seconds), never the
wall clock, so a replayed bag gives the same output as the live node.
"""

from __future__ import annotations

import math

import numpy as np

#: A gap between two samples longer than this (seconds), or a stamp that does not advance,
#: restarts the filter from the new sample instead of smoothing across it.
MAX_GAP_S = 1.0


def _alpha(cutoff_hz: np.ndarray | float, dt_s: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff_hz))
    return 1.0 / (1.0 + tau / dt_s)


class OneEuroFilter:
    """One-Euro filter over arrays of any fixed shape (e.g. one skeleton ``(15, 3)``, metres).

    Args:
        min_cutoff_hz: cutoff at zero speed (Hz, > 0); lower = smoother when still.
        beta: speed coefficient (s/unit, >= 0); higher = less lag when moving.
        d_cutoff_hz: cutoff of the speed estimate (Hz, > 0).
    """

    def __init__(self, min_cutoff_hz: float = 1.0, beta: float = 0.5, d_cutoff_hz: float = 1.0):
        self.min_cutoff_hz = float(min_cutoff_hz)
        self.beta = float(beta)
        self.d_cutoff_hz = float(d_cutoff_hz)
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    def __call__(self, x: np.ndarray, t_s: float) -> np.ndarray:
        """Filter sample ``x`` taken at time ``t_s`` (seconds); returns the filtered array."""
        x = np.asarray(x, dtype=np.float64)
        dt = None if self._t is None else t_s - self._t
        if self._x is None or dt is None or not 0.0 < dt <= MAX_GAP_S or self._x.shape != x.shape:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), t_s
            return x.copy()
        dx = (x - self._x) / dt
        a_d = _alpha(self.d_cutoff_hz, dt)
        self._dx = a_d * dx + (1.0 - a_d) * self._dx
        a = _alpha(self.min_cutoff_hz + self.beta * np.abs(self._dx), dt)
        self._x = a * x + (1.0 - a) * self._x
        self._t = t_s
        return self._x.copy()


class SkeletonSmoother:
    """One :class:`OneEuroFilter` per track id; filters of vanished tracks are dropped."""

    def __init__(self, min_cutoff_hz: float = 1.0, beta: float = 0.5, d_cutoff_hz: float = 1.0):
        self.settings = (float(min_cutoff_hz), float(beta), float(d_cutoff_hz))
        self._filters: dict[str, OneEuroFilter] = {}

    def configure(self, min_cutoff_hz: float, beta: float, d_cutoff_hz: float) -> None:
        """Change the filter settings (existing filters restart)."""
        self.settings = (float(min_cutoff_hz), float(beta), float(d_cutoff_hz))
        self._filters.clear()

    def __call__(
        self, ids: list[str], joints: np.ndarray, t_s: float, active_ids: set[str]
    ) -> np.ndarray:
        """Filter ``joints`` ``(P, 15, 3)`` of tracks ``ids`` at stamp ``t_s`` (seconds).

        ``active_ids``: tracks still alive; filters of the others are discarded.
        """
        for stale in set(self._filters) - active_ids:
            del self._filters[stale]
        out = np.empty_like(np.asarray(joints, dtype=np.float64))
        for index, track_id in enumerate(ids):
            filt = self._filters.setdefault(track_id, OneEuroFilter(*self.settings))
            out[index] = filt(joints[index], t_s)
        return out
