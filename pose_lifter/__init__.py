"""pose_lifter: learned 2D-to-3D human pose lifting for ROS 2.

The library (everything except :mod:`pose_lifter.node` and the ROS conversion modules) is pure
numpy/torch and usable without ROS.
"""

__version__ = "0.1.0"
