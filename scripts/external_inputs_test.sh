#!/usr/bin/env bash
# The optional inputs and output over DDS (yolo_ros, ROS4HRI, vision_msgs), with their message
# packages built from source folders you already have (nothing is downloaded):
#
#   scripts/external_inputs_test.sh ~/src/yolo_ros/yolo_msgs ~/src/hri_msgs ~/src/vision_msgs/vision_msgs
#
# Each argument is a package folder (with its package.xml); they are built with colcon into a
# scratch workspace on top of the development environment (scripts/setup_env.sh), which is then
# sourced for test/test_external_inputs_dds.py and test/test_detections_dds.py. CI has none of
# these packages (they are not on the wheel registries): there those tests skip by name
# (test/skip_policy.py), and test/test_external_2d.py checks the conversions without them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -ge 1 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
for package in "$@"; do
  [ -f "$package/package.xml" ] || { echo "$package: no package.xml" >&2; exit 2; }
done
bash "$ROOT/scripts/setup_env.sh"
WS="$(mktemp -d)/external_msgs"
mkdir -p "$WS/src"
for package in "$@"; do
  cp -r "$(cd "$package" && pwd)" "$WS/src/"
done
cd "$ROOT"
# shellcheck source=scripts/env.sh
source scripts/env.sh
(cd "$WS" && python -m colcon build --event-handlers console_cohesion- status- >/dev/null)
set +u; source "$WS/install/setup.bash"; set -u
python -m pytest -q test/test_external_inputs_dds.py test/test_detections_dds.py
