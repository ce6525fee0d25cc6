"""The life of a ROS 2 process around one node: init, start, spin, Ctrl-C, shut down."""

from __future__ import annotations

from typing import Callable

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node


def run_node(
    make_node: Callable[[], Node],
    name: str,
    startup_errors: tuple[type[BaseException], ...] = (),
    spin: Callable[[Node], None] = rclpy.spin,
    args: list[str] | None = None,
) -> int:
    """Run the node ``make_node()`` builds until ``spin`` returns or the process is stopped.

    Args:
        make_node: builds the node (after ``rclpy.init``).
        name: logger name for a failed start.
        startup_errors: exceptions of ``make_node`` that mean a clear "cannot start" (exit 1,
            one fatal log line); others propagate.
        spin: runs the node (default ``rclpy.spin``: until shutdown).
        args: command line for ``rclpy.init`` (None: ``sys.argv``).

    Returns:
        The process exit status: 0, or 1 when the node could not start.
    """
    rclpy.init(args=args)
    try:
        node = make_node()
    except startup_errors as error:
        rclpy.logging.get_logger(name).fatal(f"cannot start: {error}")
        rclpy.try_shutdown()
        return 1
    try:
        spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0
