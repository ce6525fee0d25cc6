"""Virtual cameras drawn at training time: 3D mocap poses seen as a robot's camera would.

Frames: world poses are in metres with y up (the mocap files' worlds, floor at y = 0); cameras
use the optical frame (x right, y down, z forward). A camera stands ``distance`` metres from the
person (horizontally, at any azimuth), ``height`` metres above the floor, aims near the person's
MidHip (off-centre by ``aim_offset``, so people appear anywhere in the image and sometimes
half outside it), rolls a little, and projects with a full perspective pinhole (focal length and
principal point drawn too). Joints outside the image or behind the camera are marked missing,
as a detector would report them.

Everything is batched torch and seeded by the caller's generator, so a run is reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch

from pose_lifter.runtime.joints import MIDHIP

#: The nearest a joint may be in front of the camera (m); closer ones count as missing.
MIN_DEPTH_M = 0.1


@dataclass
class CameraSection:
    """Ranges of the drawn cameras (uniform unless said otherwise).

    Attributes:
        distance_m: horizontal distance camera -> person (drawn log-uniformly).
        height_m: camera height above the floor.
        focal_px: focal length (fx = fy).
        roll_deg: standard deviation of the camera's roll about its optical axis.
        aim_offset: standard deviation of the aim point's horizontal offset from MidHip, as a
            fraction of the distance (0.1 at 5 m: 0.5 m, the person off-centre).
        aim_height_std_m: standard deviation of the aim point's height around MidHip's.
        principal_std: standard deviation of the principal point's offset from the image
            centre, as a fraction of the image size.
        image_sizes: ``(width, height)`` pixel sizes, one drawn per view.
    """

    distance_m: tuple[float, float] = (1.5, 12.0)
    height_m: tuple[float, float] = (0.2, 4.0)
    focal_px: tuple[float, float] = (400.0, 1600.0)
    roll_deg: float = 0.0
    aim_offset: float = 0.0
    aim_height_std_m: float = 0.2
    principal_std: float = 0.02
    image_sizes: tuple[tuple[int, int], ...] = ((1280, 720), (640, 480))


class Views(NamedTuple):
    """A batch of posed people seen by drawn cameras (``(B, ...)``: ``(B,)``, windows ``(B, W)``).

    Attributes:
        joints_cam: ``(B, ..., 15, 3)`` metres in each view's camera optical frame.
        pixels: ``(B, ..., 15, 2)`` perspective projections (behind-camera joints clamped).
        visible: ``(B, ..., 15)`` bool, in front of the camera and inside the image.
        focal_px: ``(B, ...)`` the views' focal lengths.
    """

    joints_cam: torch.Tensor
    pixels: torch.Tensor
    visible: torch.Tensor
    focal_px: torch.Tensor


def look_at(
    camera_m: torch.Tensor, target_m: torch.Tensor, roll_rad: torch.Tensor
) -> torch.Tensor:
    """World -> camera rotations ``(B, 3, 3)`` of cameras at ``camera_m`` aiming at ``target_m``.

    World y is up; the camera's y points down the image, x to its right, z along the view.
    ``roll_rad`` turns the camera about its optical axis.
    """
    forward = torch.nn.functional.normalize(target_m - camera_m, dim=1)
    up = torch.tensor([0.0, 1.0, 0.0], dtype=camera_m.dtype).expand_as(forward)
    right = torch.nn.functional.normalize(torch.cross(forward, up, dim=1), dim=1)
    down = torch.cross(forward, right, dim=1)
    rotation = torch.stack([right, down, forward], dim=1)
    c, s = torch.cos(roll_rad), torch.sin(roll_rad)
    zero, one = torch.zeros_like(c), torch.ones_like(c)
    roll = torch.stack(
        [
            torch.stack([c, -s, zero], -1),
            torch.stack([s, c, zero], -1),
            torch.stack([zero, zero, one], -1),
        ],
        dim=-2,
    )
    return roll @ rotation


class Cameras(NamedTuple):
    """B drawn cameras.

    World -> camera ``rotation`` ``(B, 3, 3)``, ``position_m`` ``(B, 3)``, ``focal_px``
    ``(B,)``, ``principal_px`` ``(B, 2)`` and image ``size_px`` ``(B, 2)``.
    """

    rotation: torch.Tensor
    position_m: torch.Tensor
    focal_px: torch.Tensor
    principal_px: torch.Tensor
    size_px: torch.Tensor


def draw_cameras(
    root_m: torch.Tensor, cameras: CameraSection, generator: torch.Generator
) -> Cameras:
    """Draw one camera per person, aimed near their root ``(B, 3)`` (world, metres, y up)."""
    batch, dtype = len(root_m), root_m.dtype

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(batch, generator=generator, dtype=dtype)

    def normal(std: float) -> torch.Tensor:
        return std * torch.randn(batch, generator=generator, dtype=dtype)

    azimuth = uniform(0.0, 2 * math.pi)
    low, high = cameras.distance_m
    distance = torch.exp(uniform(math.log(low), math.log(high)))
    camera = torch.stack(
        [
            root_m[:, 0] + distance * torch.cos(azimuth),
            uniform(*cameras.height_m),
            root_m[:, 2] + distance * torch.sin(azimuth),
        ],
        dim=1,
    )
    target = root_m + torch.stack(
        [
            normal(cameras.aim_offset) * distance,
            normal(cameras.aim_height_std_m),
            normal(cameras.aim_offset) * distance,
        ],
        dim=1,
    )
    rotation = look_at(camera, target, normal(math.radians(cameras.roll_deg)))
    focal = uniform(*cameras.focal_px)
    sizes = torch.tensor(cameras.image_sizes, dtype=dtype)
    size = sizes[torch.randint(len(sizes), (batch,), generator=generator)]
    offset = torch.stack([normal(cameras.principal_std), normal(cameras.principal_std)], dim=1)
    return Cameras(rotation, camera, focal, size / 2 + offset * size, size)


def project(joints_world: torch.Tensor, cameras: Cameras) -> Views:
    """See poses ``(B, ..., 15, 3)`` (world) through camera b of each ``(B, ...)`` group."""
    extra = joints_world.dim() - 3  # axes between the batch and the joints (e.g. time)

    def per_camera(tensor: torch.Tensor) -> torch.Tensor:
        return tensor.reshape(tensor.shape[:1] + (1,) * extra + tensor.shape[1:])

    position = per_camera(cameras.position_m)[..., None, :]
    rotation_t = per_camera(cameras.rotation.transpose(1, 2))
    joints_cam = (joints_world - position) @ rotation_t
    focal = per_camera(cameras.focal_px)[..., None, None]
    principal = per_camera(cameras.principal_px)[..., None, :]
    size = per_camera(cameras.size_px)[..., None, :]
    depth = joints_cam[..., 2]
    pixels = focal * joints_cam[..., :2] / depth.clamp(min=MIN_DEPTH_M)[..., None] + principal
    inside = (pixels >= 0).all(-1) & (pixels < size).all(-1)
    focal_px = cameras.focal_px.reshape(cameras.focal_px.shape + (1,) * extra)
    visible = inside & (depth > MIN_DEPTH_M)
    return Views(joints_cam, pixels, visible, focal_px.expand(depth.shape[:-1]))


def draw_views(
    joints_world: torch.Tensor, cameras: CameraSection, generator: torch.Generator
) -> Views:
    """See each ``(B, 15, 3)`` world pose (y up, metres) through one freshly drawn camera."""
    return project(joints_world, draw_cameras(joints_world[:, MIDHIP], cameras, generator))
