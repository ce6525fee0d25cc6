"""A small tf2-style transform buffer for offline tools (no ROS): static and stamped frames.

tf2_ros is what the node uses live; offline replay has no tf2 (not installable everywhere) and
needs the same answers from a bag's ``/tf`` and ``/tf_static``. Semantics follow tf2's
``BufferCore``:

- A transform ``parent -> child`` (a TransformStamped's ``header.frame_id`` and
  ``child_frame_id``) maps points of the child frame into the parent frame:
  ``p_parent = R p_child + t``.
- :meth:`TransformBuffer.lookup` ``(target, source, stamp)`` returns the transform mapping
  ``source`` points into ``target``, chained through the frames' tree via their common
  ancestor.
- Static transforms hold at every time. A dynamic link is interpolated between the two samples
  around ``stamp`` (translation linearly, rotation by slerp); at a sample's stamp it is that
  sample; before the first or after the last sample there is no answer (tf2's extrapolation
  error), so a message stamped outside the recorded motion is not placed.
- A stamp of 0 means "the latest": the latest time at which every dynamic link of the chain has
  a sample (tf2's latest common time).
- ``known_by_ns``: only samples received by then are used, as a live listener that waits that
  long would have them (a bag replayed offline knows its whole ``/tf`` from the start).

Each frame has one parent (the last one set for it). Units: metres; quaternions ``(x, y, z, w)``;
stamps in integer nanoseconds.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class RigidTransform:
    """``p_out = R(rotation_xyzw) p_in + translation_m``."""

    rotation_xyzw: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    translation_m: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def matrix(self) -> np.ndarray:
        """``(3, 3)`` rotation matrix."""
        return quaternion_matrix(np.asarray(self.rotation_xyzw, dtype=np.float64))

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Map ``(..., 3)`` points."""
        return np.asarray(points, np.float64) @ self.matrix().T + np.asarray(self.translation_m)

    def compose(self, inner: "RigidTransform") -> "RigidTransform":
        """``self ∘ inner``: first ``inner``, then ``self``."""
        rotation = quaternion_multiply(
            np.asarray(self.rotation_xyzw), np.asarray(inner.rotation_xyzw)
        )
        return RigidTransform(
            tuple(_unit(rotation)), tuple(self.apply(np.asarray(inner.translation_m)))
        )

    def inverse(self) -> "RigidTransform":
        x, y, z, w = self.rotation_xyzw
        inverse = RigidTransform((-x, -y, -z, w))
        return RigidTransform(inverse.rotation_xyzw, tuple(-inverse.apply(self.translation_m)))


def quaternion_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrix of a unit quaternion ``(x, y, z, w)``."""
    x, y, z, w = _unit(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def quaternion_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a b`` of ``(x, y, z, w)`` quaternions (rotate by b, then a)."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ]
    )


def slerp(a: np.ndarray, b: np.ndarray, fraction: float) -> np.ndarray:
    """Spherical interpolation from ``a`` (fraction 0) to ``b`` (1), the shorter way round."""
    a, b = _unit(a), _unit(b)
    dot = float(np.dot(a, b))
    if dot < 0.0:
        b, dot = -b, -dot
    if dot > 0.9995:  # nearly equal: linear is exact enough and stable
        return _unit(a + fraction * (b - a))
    angle = np.arccos(dot)
    return (np.sin((1 - fraction) * angle) * a + np.sin(fraction * angle) * b) / np.sin(angle)


def _unit(q) -> np.ndarray:
    q = np.asarray(q, dtype=np.float64)
    norm = np.linalg.norm(q)
    if not np.isfinite(norm) or norm < 1e-12:
        raise ValueError(f"not a rotation quaternion: {q}")
    return q / norm


@dataclass
class _Link:
    """A child's link to its parent: static, or samples sorted by stamp (with receive times)."""

    parent: str
    static: RigidTransform | None = None
    static_received_ns: int = 0
    stamps_ns: list[int] = field(default_factory=list)
    samples: list[RigidTransform] = field(default_factory=list)
    received_ns: list[int] = field(default_factory=list)

    def latest_ns(self, known_by_ns: int | None) -> int | None:
        """Return the stamp of the latest sample known by ``known_by_ns`` (None: no sample)."""
        stamps = self._known(known_by_ns)[0]
        return stamps[-1] if stamps else None

    def _known(self, known_by_ns: int | None) -> tuple[list[int], list[RigidTransform]]:
        if known_by_ns is None:
            return self.stamps_ns, self.samples
        known = [i for i, r in enumerate(self.received_ns) if r <= known_by_ns]
        return [self.stamps_ns[i] for i in known], [self.samples[i] for i in known]

    def at(self, stamp_ns: int, known_by_ns: int | None = None) -> RigidTransform | None:
        if self.static is not None:
            if known_by_ns is not None and self.static_received_ns > known_by_ns:
                return None
            return self.static
        stamps, samples = self._known(known_by_ns)
        index = bisect.bisect_left(stamps, stamp_ns)
        if index < len(stamps) and stamps[index] == stamp_ns:
            return samples[index]
        if index == 0 or index == len(stamps):
            return None  # extrapolation
        t0, t1 = stamps[index - 1], stamps[index]
        before, after = samples[index - 1], samples[index]
        fraction = (stamp_ns - t0) / (t1 - t0)
        translation = (1 - fraction) * np.asarray(before.translation_m) + fraction * np.asarray(
            after.translation_m
        )
        rotation = slerp(
            np.asarray(before.rotation_xyzw), np.asarray(after.rotation_xyzw), fraction
        )
        return RigidTransform(tuple(rotation), tuple(translation))


class TransformBuffer:
    """Frames and their links over time (see the module docstring)."""

    def __init__(self):
        self._links: dict[str, _Link] = {}

    @property
    def frames(self) -> set[str]:
        """Every frame named by a transform (parents and children)."""
        return set(self._links) | {link.parent for link in self._links.values()}

    def set_transform(
        self,
        parent: str,
        child: str,
        transform: RigidTransform,
        stamp_ns: int = 0,
        static: bool = False,
        received_ns: int = 0,
    ) -> None:
        """Add ``parent -> child`` (static: for all times; else the sample at ``stamp_ns``).

        ``received_ns``: when it arrived (see ``known_by_ns`` of :meth:`lookup`).

        Raises:
            ValueError: a frame its own parent, or a non-unit-normable rotation.
        """
        if not parent or not child or parent == child:
            raise ValueError(
                f"a transform needs two different frames, got {parent!r} -> {child!r}"
            )
        transform = RigidTransform(tuple(_unit(transform.rotation_xyzw)), transform.translation_m)
        link = self._links.get(child)
        if link is None or link.parent != parent or (link.static is not None) != static:
            link = self._links[child] = _Link(parent)
        if static:
            link.static, link.static_received_ns = transform, received_ns
            return
        index = bisect.bisect_left(link.stamps_ns, stamp_ns)
        if index < len(link.stamps_ns) and link.stamps_ns[index] == stamp_ns:
            link.samples[index] = transform
            link.received_ns[index] = received_ns
        else:
            link.stamps_ns.insert(index, stamp_ns)
            link.samples.insert(index, transform)
            link.received_ns.insert(index, received_ns)

    def _chain(self, frame: str) -> list[str]:
        """``frame`` and its ancestors up to the root (stops at a cycle)."""
        chain, seen = [frame], {frame}
        while chain[-1] in self._links:
            parent = self._links[chain[-1]].parent
            if parent in seen:
                break
            chain.append(parent)
            seen.add(parent)
        return chain

    def connected(self, target: str, source: str) -> bool:
        """Whether the two frames are in one tree (at some time)."""
        return target == source or bool(set(self._chain(target)) & set(self._chain(source)))

    def lookup(
        self, target: str, source: str, stamp_ns: int, known_by_ns: int | None = None
    ) -> RigidTransform | None:
        """Return the transform mapping ``source`` points into ``target`` at ``stamp_ns``.

        ``stamp_ns`` 0: the latest common time of the chain's links. ``known_by_ns``: use only
        the samples received by then (None: all). None when the frames are not connected or
        a dynamic link has no sample around the stamp (see the module docstring).
        """
        if target == source:
            return RigidTransform()
        up_source, up_target = self._chain(source), self._chain(target)
        common = next((frame for frame in up_source if frame in set(up_target)), None)
        if common is None:
            return None
        links = up_source[: up_source.index(common)] + up_target[: up_target.index(common)]
        if stamp_ns == 0:  # tf2's "latest": the newest time every dynamic link knows
            latest = [
                self._links[frame].latest_ns(known_by_ns)
                for frame in links
                if self._links[frame].static is None
            ]
            if any(stamp is None for stamp in latest):
                return None
            stamp_ns = min(latest, default=0)
        root_from_source = self._to_ancestor(up_source, common, stamp_ns, known_by_ns)
        root_from_target = self._to_ancestor(up_target, common, stamp_ns, known_by_ns)
        if root_from_source is None or root_from_target is None:
            return None
        return root_from_target.inverse().compose(root_from_source)

    def _to_ancestor(
        self, chain: list[str], ancestor: str, stamp_ns: int, known_by_ns: int | None
    ):
        """``T_ancestor_frame`` for ``chain[0]`` (None where a link has no answer then)."""
        result = RigidTransform()
        for frame in chain[: chain.index(ancestor)]:
            link = self._links[frame].at(stamp_ns, known_by_ns)
            if link is None:
                return None
            result = link.compose(result)
        return result
