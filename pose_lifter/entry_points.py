"""Console scripts (``ros2 run pose_lifter <name>``): check the ROS environment, then start.

A workspace built without ``pose_lifter_msgs``, or a shell that has not sourced ROS 2, would
otherwise end in an ImportError traceback; here it ends in one line that says what to run.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

#: The README's build command for both packages of this repository, in a workspace's root.
BUILD_HINT = (
    "colcon build --base-paths src src/pose_lifter/pose_lifter_msgs "
    "&& source install/setup.bash"
)


def missing_environment() -> str | None:
    """One line naming what is missing to run a ROS entry point, or None."""
    if importlib.util.find_spec("rclpy") is None:
        return (
            "rclpy not found: source your ROS 2 installation "
            "(source /opt/ros/$ROS_DISTRO/setup.bash)"
        )
    if importlib.util.find_spec("pose_lifter_msgs") is None:
        return (
            f"the pose_lifter_msgs package is not built or not sourced; in the workspace "
            f"root run: {BUILD_HINT}"
        )
    return None


def _run(program: str, module: str) -> int:
    problem = missing_environment()
    if problem:
        print(f"{program}: {problem}", file=sys.stderr)
        return 1
    return importlib.import_module(module).main()


def pose_lifter_node() -> int:
    """``pose_lifter_node``: the lifting node (:mod:`pose_lifter.ros.node`)."""
    return _run("pose_lifter_node", "pose_lifter.ros.node")


def openpose_bridge() -> int:
    """``openpose_bridge``: OpenPose JSON to keypoints_2d (:mod:`.ros.openpose_bridge`)."""
    return _run("openpose_bridge", "pose_lifter.ros.openpose_bridge")


def installed_executable(name: str) -> str:
    """``<prefix>/lib/pose_lifter/<name>``: the file ``ros2 run pose_lifter <name>`` starts."""
    from ament_index_python.packages import get_package_prefix

    return os.path.join(get_package_prefix("pose_lifter"), "lib", "pose_lifter", name)
