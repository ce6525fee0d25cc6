# Sourced by scripts/setup_env.sh and scripts/ros_workspace_test.sh, with $PY set to a venv's
# python: the ROS 2 PyPI wheels' exported CMake targets name the include dirs of the machine
# they were built on (/opt/python/cpXY-cpXY/...), and CMake rejects targets whose include dirs
# do not exist; link them to this interpreter's headers (see ROS2_PIP_WHEELS.md).
ros_wheels_links() {
  local cptag pyver pyinc npinc optpy
  cptag="$("$PY" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')"
  pyver="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  pyinc="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
  npinc="$("$PY" -c 'import numpy; print(numpy.get_include())')"
  optpy="/opt/python/$cptag-$cptag"
  _ros_wheels_link "$pyinc" "$optpy/include/python$pyver"
  _ros_wheels_link "$npinc" "$optpy/lib/python$pyver/site-packages/numpy/_core/include"
}

_ros_wheels_link() {  # target linkpath
  local target="$1" link="$2"
  if [ -e "$link" ] && [ ! -L "$link" ]; then return 0; fi      # a real dir: leave it
  if [ -L "$link" ] && [ "$(readlink "$link")" = "$target" ]; then return 0; fi
  mkdir -p "$(dirname "$link")" 2>/dev/null && ln -sfn "$target" "$link" 2>/dev/null && return 0
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo mkdir -p "$(dirname "$link")" && sudo ln -sfn "$target" "$link" && return 0
  fi
  echo "WARNING: cannot create $link -> $target (need write access to /opt/python)" >&2
}
