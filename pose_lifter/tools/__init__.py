"""Offline tools: bag replay and report, the 3D viewer, bag I/O, the sample bag, the CLI.

They drive the ROS layer (:mod:`pose_lifter.ros`) and the runtime; nothing imports them back.
"""
