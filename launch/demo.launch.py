"""First run: the bundled sample data played into the pose_lifter node, in a loop, with RViz.

    ros2 launch pose_lifter demo.launch.py [rviz:=false] [input_mode:=image]

``input_mode:=keypoints`` (default): the OpenPose bridge plays the bundled OpenPose sample
(2D keypoints of two people) in a loop. ``input_mode:=image``: ``pose-lifter play`` plays the
bundled camera bag (30 JPEG frames of pedestrians, OpenCV's vtest, with a CameraInfo) in a loop
through the node's built-in detector. RViz opens on the data's frame; with ``rviz:=false`` (a
headless robot) the markers still flow (``always_process``): ``ros2 topic echo /markers``.
Nothing else needs to run.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from pose_lifter.tools.sample_bag import (
    DEMO_BRIDGE_PARAMETERS,
    DEMO_IMAGE_PARAMETERS,
    DEMO_PARAMETERS,
    FRAME_ID,
)


def demo_nodes(context):
    """Return the player of the chosen input and the node, with the demo's parameters."""
    share = get_package_share_directory("pose_lifter")
    image_mode = LaunchConfiguration("input_mode").perform(context) == "image"
    overrides = dict(DEMO_PARAMETERS, **(DEMO_IMAGE_PARAMETERS if image_mode else {}))
    if image_mode:
        player = Node(
            package="pose_lifter",
            executable="pose-lifter",
            name="pose_lifter_player",
            arguments=["play"],
            output="screen",
        )
    else:
        player = Node(
            package="pose_lifter",
            executable="openpose_bridge",
            name="openpose_bridge",
            parameters=[DEMO_BRIDGE_PARAMETERS],
            output="screen",
        )
    lifter = Node(
        package="pose_lifter",
        executable="pose_lifter_node",
        name="pose_lifter",
        parameters=[os.path.join(share, "config", "pose_lifter.yaml"), overrides],
        output="screen",
    )
    return [player, lifter]


def generate_launch_description():
    share = get_package_share_directory("pose_lifter")
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "input_mode",
                default_value="keypoints",
                description="keypoints: the OpenPose sample through the bridge; image: the "
                "camera sample bag through the built-in detector",
            ),
            DeclareLaunchArgument(
                "rviz", default_value="true", description="Open RViz (false: headless)"
            ),
            OpaqueFunction(function=demo_nodes),
            Node(
                package="rviz2",
                executable="rviz2",
                arguments=[
                    "-d",
                    os.path.join(share, "config", "pose_lifter.rviz"),
                    "-f",
                    FRAME_ID,
                ],
                condition=IfCondition(LaunchConfiguration("rviz")),
                output="screen",
            ),
        ]
    )
