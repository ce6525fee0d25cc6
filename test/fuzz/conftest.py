"""Fixtures shared by the fuzz suite: one lifter and one pipeline per module."""

from __future__ import annotations


import pytest

from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.ros.parameters import Settings
from pose_lifter.ros.pipeline import LiftingPipeline


from fuzzing import MAX_PERSONS


@pytest.fixture(scope="module")
def lifter():
    return PoseLifter(device="cpu")


@pytest.fixture(scope="module")
def pipeline(lifter):
    return LiftingPipeline(Settings().replace(max_persons=MAX_PERSONS), lifter)
