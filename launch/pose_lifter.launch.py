"""Start the pose_lifter node (and optionally RViz with config/pose_lifter.rviz).

    ros2 launch pose_lifter pose_lifter.launch.py [params_file:=...] [namespace:=...]
        [use_sim_time:=true|false] [keypoints_topic:=...] [camera_info_topic:=...]
        [rviz:=true|false] [rviz_fixed_frame:=...]

Equivalent without launch (what the tests run):
    pose_lifter_node --ros-args --params-file config/pose_lifter.yaml \
        -r keypoints_2d:=<keypoints_topic> -r camera_info:=<camera_info_topic>
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    share = get_package_share_directory("pose_lifter")
    return LaunchDescription([
        DeclareLaunchArgument("params_file", default_value=os.path.join(share, "config", "pose_lifter.yaml"),
                              description="ROS 2 parameters file of the pose_lifter node"),
        DeclareLaunchArgument("namespace", default_value="", description="Namespace of the node"),
        DeclareLaunchArgument("use_sim_time", default_value="false", description="Use /clock time"),
        DeclareLaunchArgument("keypoints_topic", default_value="keypoints_2d",
                              description="Input pose_lifter_msgs/Skeleton2DArray topic"),
        DeclareLaunchArgument("camera_info_topic", default_value="camera_info",
                              description="Input sensor_msgs/CameraInfo topic (optional)"),
        DeclareLaunchArgument("rviz", default_value="false", description="Also start RViz"),
        DeclareLaunchArgument("rviz_fixed_frame", default_value="camera_optical_frame",
                              description="RViz fixed frame (the input's frame_id or target_frame)"),
        Node(
            package="pose_lifter",
            executable="pose_lifter_node",
            name="pose_lifter",
            namespace=LaunchConfiguration("namespace"),
            parameters=[LaunchConfiguration("params_file"),
                        {"use_sim_time": LaunchConfiguration("use_sim_time")}],
            remappings=[("keypoints_2d", LaunchConfiguration("keypoints_topic")),
                        ("camera_info", LaunchConfiguration("camera_info_topic"))],
            output="screen",
        ),
        Node(
            package="rviz2",
            executable="rviz2",
            namespace=LaunchConfiguration("namespace"),
            arguments=["-d", os.path.join(share, "config", "pose_lifter.rviz"),
                       "-f", LaunchConfiguration("rviz_fixed_frame")],
            parameters=[{"use_sim_time": LaunchConfiguration("use_sim_time")}],
            condition=IfCondition(LaunchConfiguration("rviz")),
            output="screen",
        ),
    ])
