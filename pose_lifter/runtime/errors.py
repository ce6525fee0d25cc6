"""Exception types raised by the pose_lifter library.

Every bad input gets one of these with a message naming what was wrong, never a silent wrong
number. They subclass :class:`ValueError` so generic callers can still catch them.
"""


class PoseLifterError(ValueError):
    """Base class of all pose_lifter input and configuration errors."""


class PoseInputError(PoseLifterError):
    """Keypoint or pose arrays with a wrong shape, NaN/inf where a joint is present, etc."""


class OpenPoseJsonError(PoseLifterError):
    """An OpenPose ``--write_json`` file that cannot be read or has the wrong layout."""


class ModelLoadError(PoseLifterError):
    """A model file that is missing, truncated, not safetensors, or has the wrong tensors."""


class CameraError(PoseLifterError):
    """Camera intrinsics that are malformed or degenerate (e.g. zero focal length)."""
