"""3D poses seen by drawn cameras, and the pose augmentations, checked by hand and by geometry."""

import math

import numpy as np
import pytest
import torch

from pose_lifter.runtime.joints import BONES, LHIP, MIDHIP, RHIP, SYMMETRIC_BONES
from pose_lifter_training.cameras import CameraSection, draw_views, look_at
from pose_lifter_training.data import load_world_poses
from pose_lifter_training.pose_augment import LEG_JOINTS, mix_parts, scale_bones
from pose_lifter_training.train import view_targets

from data_paths import CMU, HDM05


@pytest.fixture(scope="module")
def world():
    return torch.from_numpy(load_world_poses(HDM05, "train").joints_world[::20].copy()).double()


def test_world_poses_are_the_distinct_frames_and_reproduce_the_samples():
    for path, frames in ((CMU, 2822), (HDM05, 4572)):
        poses = load_world_poses(path, "train")
        assert len(poses) == frames  # the data README's distinct frame counts
        with np.load(path) as data:
            first = 0  # sample 0 is frame 0 of the first sequence through its camera
            r, t = data["train_R"][first].astype(float), data["train_t"][first].astype(float)
            again = poses.joints_world[0].astype(float) @ r.T + t
            assert np.abs(again - data["train_joints_3d"][first]).max() < 1e-5
        floor = np.percentile(poses.joints_world[:, :, 1].min(axis=1), 5)
        assert -0.1 < floor < 0.15  # y up, feet near the floor


def test_look_at_is_a_rotation_that_aims_the_optical_axis():
    camera = torch.tensor([[3.0, 1.5, 0.0]], dtype=torch.float64)
    target = torch.tensor([[0.0, 1.0, 0.0]], dtype=torch.float64)
    rotation = look_at(camera, target, torch.zeros(1, dtype=torch.float64))[0]
    assert torch.allclose(rotation @ rotation.T, torch.eye(3, dtype=torch.float64))
    assert torch.det(rotation).item() == pytest.approx(1.0)
    in_camera = rotation @ (target - camera)[0]
    assert in_camera[:2].abs().max() < 1e-12 and in_camera[2] > 0  # straight ahead
    up = rotation @ torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
    assert up[1] < 0  # world up is image up (camera y points down)


def test_drawn_views_project_by_pinhole_and_flag_what_the_camera_cannot_see(world):
    cameras = CameraSection(aim_offset=0.0, aim_height_std_m=0.0, principal_std=0.0)
    views = draw_views(world, cameras, torch.Generator().manual_seed(1))
    z = views.joints_cam[..., 2]
    assert (z > 1.0).all()  # at least 1.5 m away (horizontally), none behind
    projected = views.focal_px[:, None, None] * views.joints_cam[..., :2] / z[..., None]
    offset = views.pixels - projected  # the principal point, one per view
    assert torch.allclose(offset, offset[:, :1].expand_as(offset), atol=1e-9)
    assert set(map(tuple, offset[:, 0].round(decimals=6).tolist())) == {(640, 360), (320, 240)}
    # aimed at MidHip: it lands on the principal point, dead ahead
    assert views.joints_cam[:, MIDHIP, :2].abs().max() < 1e-9
    # bone lengths survive the camera (a rigid motion)
    for parent, child in BONES:
        world_length = (world[:, child] - world[:, parent]).norm(dim=-1)
        camera_length = (views.joints_cam[:, child] - views.joints_cam[:, parent]).norm(dim=-1)
        assert torch.allclose(world_length, camera_length, atol=1e-9)
    # visibility: inside the image, exactly
    width = 2 * offset[:, 0, 0]
    outside = (views.pixels[..., 0] < 0) | (views.pixels[..., 0] >= width[:, None])
    assert not (views.visible & outside).any()


def test_off_centre_cameras_cut_people_at_the_image_edge(world):
    """Aiming off the person cuts far more people at the image edge than aiming at them."""

    def cut_share(aim_offset: float) -> float:
        cameras = CameraSection(distance_m=(4.0, 5.0), aim_offset=aim_offset)
        views = draw_views(world, cameras, torch.Generator().manual_seed(2))
        return float(((~views.visible).sum(dim=1) > 0).float().mean())

    centred, off_centre = cut_share(0.0), cut_share(0.3)
    assert off_centre > centred + 0.2, (centred, off_centre)
    assert off_centre < 0.98  # not everyone


def test_the_principal_point_jitters_in_x_and_y_apart(world):
    cameras = CameraSection(principal_std=0.05, image_sizes=((1000, 1000),))
    views = draw_views(world, cameras, torch.Generator().manual_seed(4))
    projected = views.focal_px[:, None, None] * views.joints_cam[..., :2] / views.joints_cam[
        ..., 2:
    ]
    offset = (views.pixels - projected)[:, 0] - 500.0  # from the image centre
    assert offset.std(dim=0).min() > 20.0  # both move
    correlation = torch.corrcoef(offset.T)[0, 1]
    assert abs(correlation) < 0.3  # and not together along the diagonal


def test_view_targets_agree_with_the_input_under_weak_perspective(world):
    far = CameraSection(distance_m=(80.0, 100.0), focal_px=(20000.0, 20000.0))
    views = draw_views(world, far, torch.Generator().manual_seed(3))
    keypoints, target = view_targets(views)
    assert (target[:, MIDHIP] == 0).all()
    assert (target[..., :2] - keypoints).abs().max() < 0.02  # x, y are the input's
    near = CameraSection(distance_m=(1.5, 1.6))
    keypoints, target = view_targets(draw_views(world, near, torch.Generator().manual_seed(3)))
    assert (target[..., :2] - keypoints).abs().max() > 0.05  # perspective: not at 1.5 m


def test_scale_bones_keeps_joint_angles_and_left_right_symmetry(world):
    scaled = scale_bones(world, 0.15, torch.Generator().manual_seed(4))
    ratios = []
    for parent, child in BONES:
        before, after = world[:, child] - world[:, parent], scaled[:, child] - scaled[:, parent]
        cosine = torch.nn.functional.cosine_similarity(before, after, dim=-1)
        assert (cosine > 1 - 1e-9).all()  # same direction
        ratios.append(after.norm(dim=-1) / before.norm(dim=-1))
    ratios = torch.stack(ratios, dim=1)
    for left, right in SYMMETRIC_BONES:
        assert torch.allclose(ratios[:, left], ratios[:, right])
    assert 0.1 < ratios.log().std().item() < 0.2
    assert torch.equal(scaled[:, MIDHIP], world[:, MIDHIP])
    assert torch.equal(scale_bones(world, 0.0, torch.Generator()), world)


def test_mix_parts_hangs_another_poses_legs_with_the_hip_lines_agreeing(world):
    mixed = mix_parts(world, 1.0, torch.Generator().manual_seed(5))
    upper = [j for j in range(15) if j not in LEG_JOINTS]
    assert torch.equal(mixed[:, upper], world[:, upper])
    changed = (mixed[:, LEG_JOINTS] != world[:, LEG_JOINTS]).any(-1).any(-1)
    assert changed.float().mean() > 0.9  # (a pose may draw itself)

    def heading(pose):
        line = pose[:, LHIP] - pose[:, RHIP]
        return torch.atan2(line[:, 2], line[:, 0])

    difference = torch.remainder(heading(mixed) - heading(world) + math.pi, 2 * math.pi) - math.pi
    assert difference.abs().max() < 1e-9
    # the legs keep their own shape: every leg bone is a bone of some pose of the batch
    thigh = (mixed[:, 10] - mixed[:, 9]).norm(dim=-1)
    lengths = (world[:, 10] - world[:, 9]).norm(dim=-1)
    assert all(torch.isclose(lengths, value, atol=1e-9).any() for value in thigh)
    assert torch.equal(mix_parts(world, 0.0, torch.Generator()), world)
