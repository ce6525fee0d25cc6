"""ament_python build of the pose_lifter runtime package (library, node, CLI, weights)."""
from glob import glob

from setuptools import find_packages, setup

PACKAGE = "pose_lifter"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(include=[PACKAGE, f"{PACKAGE}.*"]),
    package_data={PACKAGE: ["models/*.safetensors", "models/*.json", "models/*.md",
                           "detection/models/*.onnx", "detection/models/*.md",
                           "detection/models/LICENSE-*", "sample_data/**/*"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml") + glob("config/*.rviz")),
    ],
    install_requires=["setuptools", "numpy", "safetensors", "pyyaml"],
    zip_safe=False,
    maintainer="pose_lifter maintainers",
    maintainer_email="maintainers@pose-lifter.invalid",
    description="Learned 2D-to-3D human pose lifting for ROS 2.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={
        "console_scripts": [
            "pose_lifter_node = pose_lifter.node:main",
            "openpose_bridge = pose_lifter.openpose_bridge:main",
            "pose-lifter = pose_lifter.cli:main",
        ],
    },
)
