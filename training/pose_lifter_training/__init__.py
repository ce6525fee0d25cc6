"""Offline training, evaluation and export for the pose_lifter lifter (no ROS needed)."""

__version__ = "0.2.0"
