"""pose_lifter: learned 2D-to-3D human pose lifting for ROS 2.

Three layers, imports running one way (``tools`` -> ``ros`` -> ``runtime``):

- :mod:`pose_lifter.runtime`: what a robot runs, without ROS: joint layout, 2D normalisation,
  the lifter model and its inference backends (ONNX Runtime, torch), person detectors,
  placement in metres, tracking and smoothing.
- :mod:`pose_lifter.ros`: the ROS 2 layer: the node and its per-message step, parameters,
  message conversions, markers, diagnostics, the OpenPose bridge.
- :mod:`pose_lifter.tools`: offline tools: bag replay and its report, the 3D viewer, bag I/O,
  the sample bag, the ``pose-lifter`` CLI.
"""
