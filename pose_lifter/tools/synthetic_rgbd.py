"""Synthetic RGB-D scenes from real motion capture: depth bodies, a sensor noise model, 2D.

Used by the RGB-D benchmark (``bench/bench_rgbd.py``), the sample depth bag and the tests. A
scene is one or two CMU test poses (real people, their own body orientation) placed in front of
a 640x480 camera (f = 525 px) at chosen distances, rendered as depth:

- **bodies**: capsules around the bones, a trunk capsule (chest to pelvis) and a head sphere,
  with human radii
  (:data:`BONE_RADII_M`) scaled per person by a random build factor (0.8-1.2), z-buffered, so a
  person in front hides the one behind; a wall behind everyone;
- **sensor model** (:func:`add_sensor_noise`): Gaussian depth noise with sigma =
  ``noise_at_1m_m * z^2`` (1% at 1 m), holes at depth edges (pixels next to a jump > 0.1 m,
  with probability 0.5) and random dropouts, rounded to millimetres as 16UC1 stores it;
- **2D keypoints**: the true joints projected, plus Gaussian pixel noise; joints outside the
  image are missing (confidence 0). Hidden joints stay present, as a 2D detector guesses them.

Frames: camera optical frame (x right, y down, z forward), metres; pixels origin top-left.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pose_lifter.runtime.body_frames import body_axes
from pose_lifter.runtime.joints import (
    LANKLE,
    LELBOW,
    LHIP,
    LKNEE,
    LSHOULDER,
    LWRIST,
    MIDHIP,
    NECK,
    NOSE,
    NUM_JOINTS,
    RANKLE,
    RELBOW,
    RHIP,
    RKNEE,
    RSHOULDER,
    RWRIST,
)

WIDTH, HEIGHT = 640, 480
FOCAL_PX = 525.0
CAMERA_MATRIX = np.array(
    [[FOCAL_PX, 0.0, (WIDTH - 1) / 2], [0.0, FOCAL_PX, (HEIGHT - 1) / 2], [0.0, 0.0, 1.0]]
)
#: Capsule radii (metres) of an average adult: (joint a, joint b, radius); the trunk, the head
#: and the neck are added by :func:`render_depth`.
BONE_RADII_M: tuple[tuple[int, int, float], ...] = (
    (RSHOULDER, LSHOULDER, 0.06),
    (RHIP, LHIP, 0.09),
    (NECK, RSHOULDER, 0.06),
    (NECK, LSHOULDER, 0.06),
    (RSHOULDER, RELBOW, 0.045),
    (RELBOW, RWRIST, 0.035),
    (LSHOULDER, LELBOW, 0.045),
    (LELBOW, LWRIST, 0.035),
    (RHIP, RKNEE, 0.075),
    (RKNEE, RANKLE, 0.05),
    (LHIP, LKNEE, 0.075),
    (LKNEE, LANKLE, 0.05),
)
HEAD_RADIUS_M = 0.1
#: Half the depth of an adult trunk (chest to pelvis; capsule around the lower spine).
TRUNK_RADIUS_M = 0.12
WALL_DEPTH_M = 8.0


@dataclass
class Scene:
    """One synthetic RGB-D frame.

    Attributes:
        depth_m: ``(H, W)`` float32 metres after the sensor model (NaN = hole).
        joints_3d: ``(P, 15, 3)`` true joints, metres, camera frame.
        keypoints_2d: ``(P, 15, 2)`` pixels (noisy projections). confidence: ``(P, 15)``.
        occluded_fraction: ``(P,)`` share of each person's rendered pixels hidden by another.
    """

    depth_m: np.ndarray
    joints_3d: np.ndarray
    keypoints_2d: np.ndarray
    confidence: np.ndarray
    occluded_fraction: np.ndarray


def project(points_m: np.ndarray, camera_matrix: np.ndarray = CAMERA_MATRIX) -> np.ndarray:
    """Pixels ``(..., 2)`` of camera-frame points ``(..., 3)`` (z > 0)."""
    k = camera_matrix
    z = points_m[..., 2]
    return np.stack(
        [k[0, 0] * points_m[..., 0] / z + k[0, 2], k[1, 1] * points_m[..., 1] / z + k[1, 2]], -1
    )


def _rays(camera_matrix: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` ray directions with z = 1 through every pixel centre."""
    cols, rows = np.meshgrid(
        np.arange(WIDTH, dtype=np.float64), np.arange(HEIGHT, dtype=np.float64)
    )
    k = camera_matrix
    return np.stack(
        [(cols - k[0, 2]) / k[0, 0], (rows - k[1, 2]) / k[1, 1], np.ones_like(cols)], -1
    )


def _capsule_depth(rays: np.ndarray, a: np.ndarray, b: np.ndarray, radius: float) -> np.ndarray:
    """Depth (z) of the front surface of a capsule along each ray ``(..., 3)``; inf = missed.

    The closest point of the segment to the ray is found, then the entry point of the sphere of
    ``radius`` around it (exact for spheres, within a few mm for limbs seen from the side).
    """
    d = rays / np.linalg.norm(rays, axis=-1, keepdims=True)
    ab = b - a
    length2 = float(ab @ ab)
    # closest points between the line through the camera (t d) and the segment a + s ab
    ab_d = d @ ab
    a_d = d @ a
    a_ab = float(a @ ab)
    denom = length2 - ab_d**2
    s = np.where(denom > 1e-12, (ab_d * a_d - a_ab) / np.where(denom > 1e-12, denom, 1.0), 0.0)
    s = np.clip(s, 0.0, 1.0) if length2 > 0 else np.zeros_like(s)
    centre = a + s[..., None] * ab
    t_closest = (d * centre).sum(-1)
    miss2 = (centre * centre).sum(-1) - t_closest**2
    inside = (miss2 <= radius**2) & (t_closest > 0)
    t_hit = t_closest - np.sqrt(np.maximum(radius**2 - miss2, 0.0))
    return np.where(inside, t_hit * d[..., 2], np.inf)


def render_depth(
    people_m: np.ndarray,
    builds: np.ndarray,
    camera_matrix: np.ndarray = CAMERA_MATRIX,
    wall_depth_m: float = WALL_DEPTH_M,
) -> tuple[np.ndarray, np.ndarray]:
    """Z-buffered noise-free depth ``(H, W)`` and the person index per pixel (-1 = wall)."""
    rays = _rays(camera_matrix)
    depth = np.full((HEIGHT, WIDTH), wall_depth_m)
    owner = np.full((HEIGHT, WIDTH), -1)
    forward = body_axes(people_m)[:, :, 0]
    for p, (joints, build) in enumerate(zip(people_m, builds)):
        shapes = [(joints[a], joints[b], r * build) for a, b, r in BONE_RADII_M]
        # the trunk: chest to pelvis (its top a quarter down the spine, below the neck)
        chest = joints[NECK] + 0.25 * (joints[MIDHIP] - joints[NECK])
        shapes.append((chest, joints[MIDHIP], TRUNK_RADIUS_M * build))
        head = joints[NOSE] - 0.08 * forward[p]
        shapes.append((head, head, HEAD_RADIUS_M * build))
        shapes.append((joints[NECK], head, 0.05 * build))
        for a, b, radius in shapes:
            box = _pixel_box(a, b, radius, camera_matrix)
            if box is None:
                continue
            r0, r1, c0, c1 = box
            hit = _capsule_depth(rays[r0:r1, c0:c1], a, b, radius)
            window, who = depth[r0:r1, c0:c1], owner[r0:r1, c0:c1]
            nearer = hit < window
            window[nearer] = hit[nearer]
            who[nearer] = p
    return depth, owner


def _pixel_box(a, b, radius, camera_matrix):
    """Rows/cols bounding a capsule's projection, or None when it is behind the camera."""
    if min(a[2], b[2]) - radius <= 0.05:
        return None
    corners = []
    for centre in (a, b):
        for dx in (-radius, radius):
            for dy in (-radius, radius):
                corners.append(centre + (dx, dy, -radius))
    pixels = project(np.array(corners), camera_matrix)
    c0, r0 = np.floor(pixels.min(axis=0)).astype(int) - 1
    c1, r1 = np.ceil(pixels.max(axis=0)).astype(int) + 2
    c0, c1 = max(c0, 0), min(c1, WIDTH)
    r0, r1 = max(r0, 0), min(r1, HEIGHT)
    return None if c0 >= c1 or r0 >= r1 else (r0, r1, c0, c1)


def add_sensor_noise(
    depth_m: np.ndarray,
    rng: np.random.Generator,
    noise_at_1m_m: float = 0.01,
    edge_jump_m: float = 0.1,
    edge_hole_probability: float = 0.5,
    dropout: float = 0.02,
) -> np.ndarray:
    """Apply the sensor model of the module docstring; returns float32 metres, NaN = hole."""
    noisy = depth_m + rng.normal(size=depth_m.shape) * noise_at_1m_m * depth_m**2
    jump = np.zeros(depth_m.shape, bool)
    dx = np.abs(np.diff(depth_m, axis=1)) > edge_jump_m
    dy = np.abs(np.diff(depth_m, axis=0)) > edge_jump_m
    jump[:, 1:] |= dx
    jump[:, :-1] |= dx
    jump[1:, :] |= dy
    jump[:-1, :] |= dy
    holes = (jump & (rng.random(depth_m.shape) < edge_hole_probability)) | (
        rng.random(depth_m.shape) < dropout
    )
    noisy = np.round(noisy * 1000.0) / 1000.0
    return np.where(holes | (noisy <= 0), np.nan, noisy).astype(np.float32)


def place_person(
    pose_m: np.ndarray, root_depth_m: float, root_px: tuple[float, float]
) -> np.ndarray:
    """Move a pose ``(15, 3)`` so its MidHip is at ``root_depth_m`` behind pixel ``root_px``."""
    relative = pose_m - pose_m[MIDHIP]
    u, v = root_px
    k = CAMERA_MATRIX
    root = np.array([(u - k[0, 2]) / k[0, 0], (v - k[1, 2]) / k[1, 1], 1.0]) * root_depth_m
    return relative + root


def make_scene(
    people_m: np.ndarray, rng: np.random.Generator, pixel_noise_px: float = 1.5
) -> Scene:
    """Render ``people_m`` ``(P, 15, 3)`` (placed, camera frame) into a :class:`Scene`."""
    builds = rng.uniform(0.8, 1.2, size=len(people_m))
    clean, owner = render_depth(people_m, builds)
    alone = [render_depth(people_m[p : p + 1], builds[p : p + 1])[1] for p in range(len(people_m))]
    occluded = np.array(
        [1.0 - (owner == p).sum() / max((mask == 0).sum(), 1) for p, mask in enumerate(alone)]
    )
    depth = add_sensor_noise(clean, rng)
    keypoints = (
        project(people_m) + rng.normal(size=(len(people_m), NUM_JOINTS, 2)) * pixel_noise_px
    )
    inside = (
        (keypoints[..., 0] >= 0)
        & (keypoints[..., 0] <= WIDTH - 1)
        & (keypoints[..., 1] >= 0)
        & (keypoints[..., 1] <= HEIGHT - 1)
    )
    confidence = np.where(inside, 0.9, 0.0)
    keypoints = np.where(inside[..., None], keypoints, 0.0)
    return Scene(depth, people_m, keypoints, confidence, occluded)


def sample_scenes(
    poses_m: np.ndarray,
    count: int,
    seed: int = 0,
    depth_range_m: tuple[float, float] = (1.0, 6.0),
    second_person: float = 0.5,
    occlude: bool = False,
):
    """Yield ``count`` scenes of CMU poses ``(N, 15, 3)`` (any camera frame, metres).

    Person 0's root depth is uniform in ``depth_range_m``, its root pixel within the central
    part of the image. With probability ``second_person`` a second person stands beside it
    (1-2 m sideways, +-1 m in depth); with ``occlude`` person 0 stands 2.2 m or farther and a
    second person always stands 0.8-1.5 m in front of it (at 1.2 m or farther), beside the line of
    sight to its root (0.1-0.3 m at person 0's depth), so it hides about half of person 0.
    """
    rng = np.random.default_rng(seed)
    for _ in range(count):
        pose = poses_m[rng.integers(len(poses_m))]
        depth = rng.uniform(
            max(depth_range_m[0], 2.2) if occlude else depth_range_m[0], depth_range_m[1]
        )
        root_px = (rng.uniform(0.3, 0.7) * WIDTH, rng.uniform(0.45, 0.6) * HEIGHT)
        people = [place_person(pose, depth, root_px)]
        if occlude or rng.random() < second_person:
            other = poses_m[rng.integers(len(poses_m))]
            if occlude:
                ahead = min(rng.uniform(0.8, 1.5), depth - 1.2)
                on_ray = people[0][MIDHIP] * (depth - ahead) / depth
                # seen from the camera, 0.1-0.3 m beside person 0's root at its depth
                sideways = rng.choice([-1, 1]) * rng.uniform(0.1, 0.3) * (depth - ahead) / depth
                position = on_ray + (sideways, 0.0, 0.0)
            else:
                sideways = rng.choice([-1, 1]) * rng.uniform(1.0, 2.0)
                position = people[0][MIDHIP] + (sideways, 0.0, rng.uniform(-1.0, 1.0))
            position[2] = max(position[2], 0.6)
            people.append(other - other[MIDHIP] + position)
        yield make_scene(np.array(people), rng)
