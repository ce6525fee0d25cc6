#!/usr/bin/env bash
# The user's path, in CI: a colcon workspace with this repository in src/pose_lifter, set up and
# built with the README's "With ROS 2" commands on ROS 2 <distro>, then the installed-node DDS
# tests, the install checks and the linters (colcon test) against that install.
#
#   scripts/ros_workspace_test.sh jazzy|kilted
#
# The README block between <!-- ci:ros-workspace --> markers is executed line by line: the
# lines a pip-wheel machine can run as written run verbatim; the others have a stand-in here
# (ROS 2 from the PyPI wheels for /opt/ros + rosdep's apt packages; a copy of the files git
# tracks for git clone; the launch-file checks for ros2 launch). A README line this script does not
# know fails the run, so the README and CI cannot drift apart.
# Workspace: .ws/<distro>/ (venv kept between runs while its requirements are unchanged).
set -euo pipefail

DISTRO="${1:?usage: $0 jazzy|kilted}"
case "$DISTRO" in jazzy|kilted) ;; *) echo "unknown distro $DISTRO" >&2; exit 2 ;; esac
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WS="$ROOT/.ws/$DISTRO"
PYTHON="${PYTHON:-python3}"
t0=$SECONDS
log() { printf '[ws %s %4ds] %s\n' "$DISTRO" "$((SECONDS - t0))" "$*" >&2; }
QUIET=(); [ "${CI:-}" = true ] && QUIET=(-q)

# ------------------------------------------------------------ stand-ins for a ROS machine
ros_install() {  # /opt/ros/$DISTRO + rosdep's apt packages: the distro's PyPI wheels
  local stamp hash
  hash="$({ "$PYTHON" --version; cat "$ROOT/requirements/ros-$DISTRO.txt" \
            "$ROOT/requirements/robot-constraints.txt"; } | sha256sum | cut -d' ' -f1)"
  stamp="$WS/venv/.ros-$DISTRO.sha256"
  if [ "$(cat "$stamp" 2>/dev/null || true)" != "$hash" ]; then
    log "ROS 2 $DISTRO from the PyPI wheels into $WS/venv"
    rm -rf "$WS/venv"
    "$PYTHON" -m venv "$WS/venv"
    "$WS/venv/bin/python" -m pip install "${QUIET[@]}" --disable-pip-version-check \
      -r "$ROOT/requirements/ros-$DISTRO.txt" -c "$ROOT/requirements/robot-constraints.txt"
    echo "$hash" > "$stamp"
  fi
  touch "$WS/venv/COLCON_IGNORE"
  PY="$WS/venv/bin/python"
  # shellcheck source=scripts/ros_wheels_links.sh
  . "$ROOT/scripts/ros_wheels_links.sh"
  ros_wheels_links
}

ros_environment() {  # what `source /opt/ros/$DISTRO/setup.bash` sets, for the wheels' prefix
  set +u; . "$WS/venv/bin/activate"; set -u
  unset _ROS_WHEELS_BOOTSTRAP_COMPLETE PYTHONPATH COLCON_PREFIX_PATH
  export AMENT_PREFIX_PATH="$VIRTUAL_ENV" CMAKE_PREFIX_PATH="$VIRTUAL_ENV" ROS_DISTRO="$DISTRO"
  export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
}

clone() {  # git clone: exactly the files git tracks (an untracked file cannot make CI green)
  rm -rf "$WS/src" "$WS/build" "$WS/install" "$WS/log" "$WS"/*-without-msgs
  mkdir -p "$WS/src/pose_lifter"
  git -C "$ROOT" ls-files -z --cached \
    | (cd "$ROOT" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' _) \
    | tar -C "$ROOT" --null -T - -cf - | tar -C "$WS/src/pose_lifter" -xf -
}

# ------------------------------------------------------------ the README's commands
readme_commands() {
  awk '/<!-- ci:ros-workspace -->/{inside=!inside; next} inside && !/^```/' "$ROOT/README.md"
}

run_readme() {
  local line command count=0
  while IFS= read -r line; do
    command="${line%%#*}"                       # drop the comment
    command="$(printf '%s' "$command" | sed -e 's/[[:space:]]*$//' -e 's/^[[:space:]]*//')"
    [ -z "$command" ] && continue
    count=$((count + 1))
    case "$command" in
      "mkdir -p ~/ros2_ws/src && cd ~/ros2_ws")
        mkdir -p "$WS/src"; cd "$WS" ;;
      "git clone "*" src/pose_lifter")
        log "stand-in for: $command"; clone ;;
      "source /opt/ros/"*"/setup.bash")
        log "stand-in for: $command"; ros_install; ros_environment ;;
      "python3 -m venv --system-site-packages venv && touch venv/COLCON_IGNORE")
        log "stand-in for: $command (the wheels' venv is the ROS prefix and this venv)" ;;
      "rosdep install "*)
        log "stand-in for: $command (no rosdistro index offline: requirements/ros-$DISTRO.txt" \
            "installed the keys' packages; test_package_manifest.py checks the keys)" ;;
      "ros2 launch "*|"ros2 run "*)
        log "stand-in for: $command (no launch_ros/ros2cli wheels: the installed-package" \
            "tests start the entry points and check the launch files)" ;;
      "source venv/bin/activate"|"pip install "*|"python3 -m colcon build "*|\
"source install/setup.bash")
        log "README: $command"
        set +u; eval "$command"; set -u ;;
      *)
        echo "ros_workspace_test.sh: README line not known to CI: $command" >&2; exit 1 ;;
    esac
  done < <(readme_commands)
  [ "$count" -ge 8 ] || { echo "README ci:ros-workspace block not found" >&2; exit 1; }
}

mkdir -p "$WS"
run_readme
cd "$WS"
log "colcon build took $((SECONDS - t0)) s in all so far"

# The user's mistake the node must explain: a workspace built without the messages package.
python3 -m colcon --log-base log-without-msgs build --base-paths src \
  --build-base build-without-msgs --install-base install-without-msgs \
  --event-handlers console_cohesion- status- >/dev/null
export POSE_LIFTER_WS_WITHOUT_MSGS="$WS/install-without-msgs"
export POSE_LIFTER_EXPECT_PREFIX="$WS/install"

log "installed-node tests (pytest, ROS 2 $DISTRO)"
python3 -m pytest -q -p no:cacheprovider \
  src/pose_lifter/test/test_installed_package.py src/pose_lifter/test/test_package_manifest.py \
  src/pose_lifter/test/test_msgs_dds.py src/pose_lifter/test/test_node_dds.py \
  src/pose_lifter/test/test_image_node_dds.py src/pose_lifter/test/test_openpose_bridge.py \
  src/pose_lifter/test/test_node_lifecycle_dds.py src/pose_lifter/test/test_rgbd_node_dds.py

log "colcon test (linters)"
python3 -m colcon test --packages-select pose_lifter --event-handlers console_cohesion- status- \
  --pytest-args test/test_flake8.py test/test_pep257.py >/dev/null
python3 -m colcon test-result --verbose --test-result-base build/pose_lifter
log "done"
