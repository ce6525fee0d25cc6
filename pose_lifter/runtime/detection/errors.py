"""Exception types of :mod:`pose_lifter.runtime.detection` (all :class:`PoseLifterError`)."""

from pose_lifter.runtime.errors import PoseLifterError


class ImageDecodeError(PoseLifterError):
    """An image buffer that cannot be turned into RGB.

    An image buffer that cannot be turned into RGB: unsupported encoding, wrong size or step,
    truncated data, corrupt JPEG/PNG.
    """


class DetectorError(PoseLifterError):
    """A detector that cannot be created or run.

    A detector that cannot be created or run: unknown backend or parameter, missing model file or
    optional dependency, or an input array that is not an RGB uint8 image.
    """
