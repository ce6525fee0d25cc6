"""ament_python build of the pose_lifter runtime package (library, node, CLI, weights).

Works with the setuptools of every supported distro (Humble ships 59.6: no recursive globs in
package_data, so the sample data's files are listed here).
"""

import os
from glob import glob

from setuptools import find_packages, setup

PACKAGE = 'pose_lifter'


def files_under(folder):
    """Every file below ``PACKAGE/folder``, relative to the package (for package_data)."""
    found = []
    for directory, _, names in os.walk(os.path.join(PACKAGE, folder)):
        found += [os.path.relpath(os.path.join(directory, name), PACKAGE) for name in names]
    return sorted(found)


setup(
    name=PACKAGE,
    version='0.2.0',
    packages=find_packages(include=[PACKAGE, f'{PACKAGE}.*']),
    package_data={
        PACKAGE: [
            'models/*.safetensors',
            'models/*.onnx',
            'models/*.json',
            'models/*.md',
            'runtime/detection/models/*.onnx',
            'runtime/detection/models/*.md',
            'runtime/detection/models/LICENSE-*',
            *files_under('sample_data'),
        ]
    },
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{PACKAGE}']),
        (f'share/{PACKAGE}', ['package.xml']),
        (f'share/{PACKAGE}/launch', glob('launch/*.launch.py')),
        (f'share/{PACKAGE}/config', glob('config/*.yaml') + glob('config/*.rviz')),
    ],
    install_requires=['setuptools'],
    zip_safe=False,
    maintainer='pose_lifter maintainers',
    maintainer_email='maintainers@pose-lifter.invalid',
    description='Learned 2D-to-3D human pose lifting for ROS 2.',
    license='Apache-2.0',
    tests_require=['pytest'],
    entry_points={
        'console_scripts': [
            'pose_lifter_node = pose_lifter.entry_points:pose_lifter_node',
            'openpose_bridge = pose_lifter.entry_points:openpose_bridge',
            'pose-lifter = pose_lifter.tools.cli:main',
        ]
    },
)
