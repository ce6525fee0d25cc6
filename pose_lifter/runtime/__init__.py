"""The runtime: pose math, the lifter and its inference, detectors, placement, tracking.

Nothing here imports ROS; arrays in, arrays out (numpy; torch only for training, the torch
backend and ``device: cuda``).
"""
