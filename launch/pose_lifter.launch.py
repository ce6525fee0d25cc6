"""Start the pose_lifter node (and optionally RViz with config/pose_lifter.rviz).

    ros2 launch pose_lifter pose_lifter.launch.py [params_file:=...] [namespace:=...]
        [use_sim_time:=true|false] [autostart:=true|false]
        [keypoints_topic:=...] [camera_info_topic:=...]
        [input_mode:=keypoints|image] [image_topic:=...] [image_transport:=raw|compressed]
        [image_reliability:=auto|reliable|best_effort] [rviz:=true|false] [rviz_fixed_frame:=...]
        [depth:=true|false] [depth_topic:=...] [depth_transport:=raw|compressedDepth]

RGB-D (RealSense-style topics): ``depth:=true
depth_topic:=/camera/aligned_depth_to_color/image_raw
camera_info_topic:=/camera/color/camera_info`` places people from the aligned depth image.

From images (built-in detector): ``input_mode:=image image_topic:=/camera/color/image_raw
camera_info_topic:=/camera/color/camera_info``; keypoints_topic is then where the detected 2D
skeletons are published. Compressed input: set ``image.transport: compressed`` in the params
file (the node subscribes ``<image_topic>/compressed``).

Equivalent without launch (what the tests run):
    pose_lifter_node --ros-args --params-file config/pose_lifter.yaml \
        -r keypoints_2d:=<keypoints_topic> -r camera_info:=<camera_info_topic> \
        -r image:=<image_topic> -r depth:=<depth_topic> [-p input_mode:=image]
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def pose_lifter_node(context):
    """Return the node; ``input_mode`` overrides the params file only when given."""
    overrides = {
        "use_sim_time": LaunchConfiguration("use_sim_time"),
        "autostart": LaunchConfiguration("autostart"),
    }
    for parameter, argument in (
        ("model", LaunchConfiguration("model")),
        ("input_mode", LaunchConfiguration("input_mode")),
        ("image.transport", LaunchConfiguration("image_transport")),
        ("qos.image_reliability", LaunchConfiguration("image_reliability")),
        ("depth.enabled", LaunchConfiguration("depth")),
        ("depth.transport", LaunchConfiguration("depth_transport")),
    ):
        value = argument.perform(context)
        if value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if value != "":  # empty: the params file's value
            overrides[parameter] = value
    return [
        Node(
            package="pose_lifter",
            executable="pose_lifter_node",
            name="pose_lifter",
            namespace=LaunchConfiguration("namespace"),
            parameters=[LaunchConfiguration("params_file"), overrides],
            remappings=[
                ("keypoints_2d", LaunchConfiguration("keypoints_topic")),
                ("detections", LaunchConfiguration("detections_topic")),
                ("camera_info", LaunchConfiguration("camera_info_topic")),
                ("image", LaunchConfiguration("image_topic")),
                ("depth", LaunchConfiguration("depth_topic")),
            ],
            output="screen",
        )
    ]


def generate_launch_description():
    share = get_package_share_directory("pose_lifter")
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "params_file",
                default_value=os.path.join(share, "config", "pose_lifter.yaml"),
                description="ROS 2 parameters file of the pose_lifter node",
            ),
            DeclareLaunchArgument(
                "namespace", default_value="", description="Namespace of the node"
            ),
            DeclareLaunchArgument(
                "use_sim_time", default_value="false", description="Use /clock time"
            ),
            DeclareLaunchArgument(
                "autostart",
                default_value="true",
                description="Configure and activate the (lifecycle) node at start; false = "
                "leave it unconfigured for a lifecycle manager",
            ),
            DeclareLaunchArgument(
                "model",
                default_value="",
                description="default | mocap_only (guaranteed free of MPII's research-only data; "
                "today = default) | seed | supervised (see the model card); empty = the params "
                "file's model",
            ),
            DeclareLaunchArgument(
                "input_mode",
                default_value="",
                description="keypoints | image | yolo (yolo_ros detections) | hri (ROS4HRI "
                "bodies); empty = the params file's input_mode",
            ),
            DeclareLaunchArgument(
                "image_transport",
                default_value="",
                description="raw | compressed (subscribes <image_topic>/compressed); empty = "
                "the params file's image.transport",
            ),
            DeclareLaunchArgument(
                "image_reliability",
                default_value="",
                description="auto | reliable | best_effort image subscription; empty = the "
                "params file's qos.image_reliability",
            ),
            DeclareLaunchArgument(
                "keypoints_topic",
                default_value="keypoints_2d",
                description="pose_lifter_msgs/Skeleton2DArray topic: input "
                "(input_mode keypoints) or output (input_mode image)",
            ),
            DeclareLaunchArgument(
                "detections_topic",
                default_value="detections",
                description="yolo_msgs/DetectionArray topic of yolo_ros (input_mode yolo; its "
                "tracking node publishes 'tracking' with track ids)",
            ),
            DeclareLaunchArgument(
                "image_topic",
                default_value="image",
                description="Input sensor_msgs/Image topic (input_mode image; "
                "compressed transport: <image_topic>/compressed)",
            ),
            DeclareLaunchArgument(
                "camera_info_topic",
                default_value="camera_info",
                description="Input sensor_msgs/CameraInfo topic (optional)",
            ),
            DeclareLaunchArgument(
                "depth",
                default_value="",
                description="true = place people from an aligned depth image (depth.enabled); "
                "empty = the params file's",
            ),
            DeclareLaunchArgument(
                "depth_topic",
                default_value="depth",
                description="Input depth image aligned to the colour camera (16UC1 mm / 32FC1 "
                "m), e.g. /camera/aligned_depth_to_color/image_raw",
            ),
            DeclareLaunchArgument(
                "depth_transport",
                default_value="",
                description="raw | compressedDepth (subscribes <depth_topic>/compressedDepth); "
                "empty = the params file's depth.transport",
            ),
            DeclareLaunchArgument("rviz", default_value="false", description="Also start RViz"),
            DeclareLaunchArgument(
                "rviz_fixed_frame",
                default_value="camera_optical_frame",
                description="RViz fixed frame (the input's frame_id or target_frame)",
            ),
            OpaqueFunction(function=pose_lifter_node),
            Node(
                package="rviz2",
                executable="rviz2",
                namespace=LaunchConfiguration("namespace"),
                arguments=[
                    "-d",
                    os.path.join(share, "config", "pose_lifter.rviz"),
                    "-f",
                    LaunchConfiguration("rviz_fixed_frame"),
                ],
                parameters=[{"use_sim_time": LaunchConfiguration("use_sim_time")}],
                condition=IfCondition(LaunchConfiguration("rviz")),
                output="screen",
            ),
        ]
    )
