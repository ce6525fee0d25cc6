"""The lifter on ONNX Runtime: the CPU runtime of the node, without torch.

The graph (written by ``pose-lifter-train export``) takes ``keypoints_2d`` ``(N, 15, 2)``
float32 (normalised, see :mod:`pose_lifter.runtime.normalization`) and ``mask`` ``(N, 15)`` float32
(1 = present) and returns ``joints_3d`` ``(N, 15, 3)`` (root-relative, normalised units, camera
optical axes), or ``(N, 15, 4)`` with each joint's ``log sigma`` last; the batch axis is
dynamic. A temporal lifter (``window`` W > 1 in its config) takes ``keypoints_2d``
``(N, W, 15, 2)``, ``mask`` ``(N, W, 15)`` and ``age_s`` ``(N, W)`` (see
:class:`pose_lifter.runtime.model.LifterModel`). Its string metadata holds ``format``, ``config``
(the architecture) and ``source_sha256`` (see :mod:`pose_lifter.runtime.model_files`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pose_lifter.runtime.errors import ModelLoadError
from pose_lifter.runtime.model_files import (
    FORMAT_TAG,
    SOURCE_SHA256_KEY,
    file_sha256,
    onnx_path_for,
    weights_path_for,
)

INPUT_NAMES = ("keypoints_2d", "mask")
#: The third input of a temporal lifter: each frame's age (seconds before the current one).
AGE_INPUT_NAME = "age_s"
OUTPUT_NAME = "joints_3d"


class OnnxLifterSession:
    """``session(keypoints, mask[, age_s]) -> (N, 15, 3|4) float32`` (shapes: module docstring).

    Args:
        onnx_model: an ONNX file's path or its bytes.
        num_threads: ONNX Runtime intra-op threads (>= 1).

    Raises:
        ModelLoadError: onnxruntime missing, or a file it cannot load.
    """

    def __init__(self, onnx_model: str | Path | bytes, num_threads: int = 1):
        try:
            import onnxruntime as ort
        except ImportError as error:
            raise ModelLoadError(
                f"the CPU lifter needs onnxruntime ({error}); " "pip install onnxruntime"
            ) from error
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(int(num_threads), 1)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        source = onnx_model if isinstance(onnx_model, bytes) else str(onnx_model)
        try:
            self._session = ort.InferenceSession(
                source, options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own exception types
            name = "ONNX bytes" if isinstance(onnx_model, bytes) else f"ONNX file {onnx_model}"
            raise ModelLoadError(f"{name} cannot be loaded: {error}") from error
        self.metadata = dict(self._session.get_modelmeta().custom_metadata_map)

    def __call__(
        self, keypoints: np.ndarray, mask: np.ndarray, age_s: np.ndarray | None = None
    ) -> np.ndarray:
        feeds = {
            INPUT_NAMES[0]: np.ascontiguousarray(keypoints, np.float32),
            INPUT_NAMES[1]: np.ascontiguousarray(mask, np.float32),
        }
        if age_s is not None:
            feeds[AGE_INPUT_NAME] = np.ascontiguousarray(age_s, np.float32)
        return self._session.run(None, feeds)[0]


def load_onnx_lifter(model_path: str | Path, num_threads: int = 1) -> OnnxLifterSession:
    """Return the ONNX Runtime lifter of ``model_path`` (a ``.onnx`` or ``.safetensors`` path).

    The ONNX file is ``model_path`` itself or the ``.onnx`` file next to the safetensors. When
    the safetensors file exists too, the ONNX file must have been exported from it (its
    ``source_sha256``); a mismatch is refused rather than lifting with stale weights.

    Raises:
        ModelLoadError: no ONNX file, not a pose_lifter graph, or exported from other weights.
    """
    onnx_path = onnx_path_for(model_path)
    if not onnx_path.is_file() and not weights_path_for(model_path).is_file():
        raise ModelLoadError(f"model file {model_path} does not exist")
    if not onnx_path.is_file():
        raise ModelLoadError(
            f"no ONNX file {onnx_path} for {model_path}; export one with "
            f"`pose-lifter-train export --model {weights_path_for(model_path)}`"
        )
    session = OnnxLifterSession(onnx_path, num_threads)
    if session.metadata.get("format") != FORMAT_TAG:
        raise ModelLoadError(
            f"ONNX file {onnx_path} is not a pose_lifter lifter "
            "(no format metadata); export it with `pose-lifter-train export`"
        )
    weights = weights_path_for(model_path)
    if weights.is_file():
        expected = session.metadata.get(SOURCE_SHA256_KEY)
        if expected != file_sha256(weights):
            raise ModelLoadError(
                f"ONNX file {onnx_path} was not exported from {weights} "
                "(stale export); re-export with `pose-lifter-train export "
                f"--model {weights}`"
            )
    return session
