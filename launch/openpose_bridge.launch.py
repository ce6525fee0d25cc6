"""Play an OpenPose --write_json directory into the pose_lifter node.

    ros2 launch pose_lifter openpose_bridge.launch.py [directory:=...] [mode:=once|loop|watch]
        [rate_hz:=10.0] [frame_id:=camera_optical_frame] [image_width:=1280] [image_height:=720]

Starts only the bridge (publishing keypoints_2d); start pose_lifter.launch.py beside it.
Equivalent without launch:
    openpose_bridge --ros-args -p mode:=loop -p rate_hz:=10.0 -p frame_id:=camera_optical_frame
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

ARGUMENTS = (
    ("directory", "", "OpenPose --write_json directory ('' = bundled sample)", str),
    ("mode", "loop", "once | loop | watch", str),
    ("rate_hz", "10.0", "Files published per second", float),
    ("frame_id", "camera_optical_frame", "header.frame_id of the published skeletons", str),
    ("image_width", "1280", "Source image width in pixels", int),
    ("image_height", "720", "Source image height in pixels", int),
)


def generate_launch_description():
    parameters = {
        name: ParameterValue(LaunchConfiguration(name), value_type=kind)
        for name, _, _, kind in ARGUMENTS
    }
    return LaunchDescription(
        [
            *[
                DeclareLaunchArgument(name, default_value=default, description=description)
                for name, default, description, _ in ARGUMENTS
            ],
            DeclareLaunchArgument(
                "namespace", default_value="", description="Namespace of the node"
            ),
            Node(
                package="pose_lifter",
                executable="openpose_bridge",
                name="openpose_bridge",
                namespace=LaunchConfiguration("namespace"),
                parameters=[parameters],
                output="screen",
            ),
        ]
    )
