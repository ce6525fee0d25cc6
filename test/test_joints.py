import numpy as np
import pytest

from pose_lifter.runtime import joints
from pose_lifter.runtime.errors import PoseInputError


def test_joint_order_is_body25_prefix():
    assert joints.JOINT_NAMES[joints.MIDHIP] == "MidHip"
    assert joints.JOINT_NAMES[joints.LANKLE] == "LAnkle"
    assert joints.NUM_JOINTS == 15


def test_flip_permutation_is_an_involution_swapping_sides():
    perm = np.array(joints.FLIP_PERMUTATION)
    assert np.array_equal(perm[perm], np.arange(15))
    assert perm[joints.RWRIST] == joints.LWRIST and perm[joints.NECK] == joints.NECK


def test_symmetric_bones_pair_left_and_right():
    for a, b in joints.SYMMETRIC_BONES:
        names_a = [joints.JOINT_NAMES[j] for j in joints.BONES[a]]
        names_b = [joints.JOINT_NAMES[j] for j in joints.BONES[b]]
        assert [n.replace("R", "L", 1) if n.startswith("R") else n for n in names_a] == names_b


def test_coco17_mapping_midpoints_and_min_confidence():
    coco = np.zeros((1, 17, 3))
    coco[0, :, 0] = np.arange(17)
    coco[0, :, 1] = 100 + np.arange(17)
    coco[0, :, 2] = 0.9
    coco[0, 11, 2] = 0.2  # left hip weak
    mapped = joints.to_15_joints(coco, "coco17")
    assert mapped.shape == (1, 15, 3)
    assert mapped[0, joints.NECK, 0] == pytest.approx(5.5)  # mid(5, 6)
    assert mapped[0, joints.MIDHIP, 2] == pytest.approx(0.2)  # min of hips
    assert mapped[0, joints.RANKLE, 0] == 16 and mapped[0, joints.LANKLE, 0] == 15


def test_blazepose_mapping():
    blaze = np.tile(np.arange(33, dtype=float)[:, None], (1, 3))
    mapped = joints.to_15_joints(blaze, "blazepose33")
    assert mapped[joints.MIDHIP, 0] == pytest.approx(23.5)
    assert mapped[joints.RWRIST, 0] == 16


def test_body25_keeps_first_15():
    body = np.random.default_rng(0).random((3, 25, 3))
    assert np.array_equal(joints.to_15_joints(body, "openpose_body25"), body[:, :15])


@pytest.mark.parametrize(
    "shape,fmt", [((17, 3), "blazepose33"), ((2, 18, 3), "coco17"), ((17, 4), "coco17")]
)
def test_mapping_rejects_wrong_shapes(shape, fmt):
    with pytest.raises(PoseInputError, match="must have shape"):
        joints.to_15_joints(np.zeros(shape), fmt)


def test_mapping_rejects_unknown_format():
    with pytest.raises(PoseInputError, match="unknown source format"):
        joints.to_15_joints(np.zeros((17, 3)), "coco18")
