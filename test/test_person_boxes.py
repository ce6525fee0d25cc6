"""Centres, boxes and position covariances of lifted people (pure numpy, by hand)."""

from __future__ import annotations

import numpy as np
import pytest

from pose_lifter.runtime.person_boxes import (
    LATERAL_SIGMA_M,
    RELATIVE_DISTANCE_SIGMA,
    SCALE_ASSUMED_HEIGHT,
    SCALE_DEPTH,
    SCALE_NORMALIZED,
    UNKNOWN_SIGMA_M,
    body_centre,
    bounding_boxes,
    position_covariance,
)
from pose_lifter_msgs.msg import Skeleton3D


def test_scale_source_values_are_the_messages():
    assert (SCALE_NORMALIZED, SCALE_ASSUMED_HEIGHT, SCALE_DEPTH) == (
        Skeleton3D.SCALE_NORMALIZED,
        Skeleton3D.SCALE_ASSUMED_HEIGHT,
        Skeleton3D.SCALE_DEPTH,
    )


def test_centre_and_box_of_the_joints():
    joints = np.zeros((1, 15, 3))
    joints[0, :, 0] = np.linspace(-1.0, 1.0, 15)
    joints[0, 3] = (0.2, 2.0, 5.0)
    centre, size = bounding_boxes(joints)
    assert centre[0] == pytest.approx([0.0, 1.0, 2.5]) and size[0] == pytest.approx([2, 2, 5])
    assert body_centre(joints)[0] == pytest.approx(joints[0].mean(axis=0))


def test_the_distance_error_lies_along_the_ray_and_follows_the_scale_source():
    centres = np.array([[0.0, 0.0, 4.0], [0.0, 0.0, 4.0], [3.0, 0.0, 4.0], [0.0, 0.0, 4.0]])
    sources = [SCALE_DEPTH, SCALE_ASSUMED_HEIGHT, SCALE_ASSUMED_HEIGHT, SCALE_NORMALIZED]
    cov = position_covariance(centres, sources)
    depth, prior, oblique, unknown = cov
    assert depth == pytest.approx(
        np.diag([LATERAL_SIGMA_M**2, LATERAL_SIGMA_M**2, (0.02 * 4) ** 2])
    )
    assert RELATIVE_DISTANCE_SIGMA[SCALE_DEPTH] == 0.02
    assert prior[2, 2] == pytest.approx((0.12 * 4) ** 2)  # 6x the depth's sigma
    assert unknown[2, 2] == pytest.approx(UNKNOWN_SIGMA_M**2)
    # a person 5 m away along (0.6, 0, 0.8): the big eigenvector is that ray
    values, vectors = np.linalg.eigh(oblique)
    assert values[-1] == pytest.approx((0.12 * 5) ** 2)
    assert np.abs(vectors[:, -1]) == pytest.approx([0.6, 0.0, 0.8])


def test_the_covariance_turns_with_the_output_frame():
    quarter_turn_z = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    centre = np.array([[4.0, 0.0, 0.0]])  # along camera x
    in_camera = position_covariance(centre, [SCALE_DEPTH])[0]
    in_map = position_covariance(centre, [SCALE_DEPTH], quarter_turn_z)[0]
    assert np.argmax(np.diag(in_camera)) == 0 and np.argmax(np.diag(in_map)) == 1
    assert np.linalg.eigvalsh(in_map) == pytest.approx(np.linalg.eigvalsh(in_camera))
