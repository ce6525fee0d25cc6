"""The ROS 2 layer: node, per-message step, parameters, conversions, markers, diagnostics.

Imports :mod:`pose_lifter.runtime`, never :mod:`pose_lifter.tools`.
"""
