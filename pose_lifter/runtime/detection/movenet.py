"""MoveNet MultiPose Lightning (Google, Apache-2.0) on onnxruntime: 6 people a tile, COCO-17.

Model I/O (facts in models/NOTICE.md): input ``int32 [1, H, W, 3]`` RGB with H and W multiples
of 32; output ``[1, 6, 56]``: per candidate 17 x (y, x, score) normalised to the padded input,
then a box (ymin, xmin, ymax, xmax) and the person score at index 55. With ``tiles`` > 1 the
network runs on overlapping tiles of the image (:mod:`.tiling`), finding smaller people and
more than six.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from pose_lifter.runtime.detection.base import Detections, check_rgb
from pose_lifter.runtime.detection.errors import DetectorError
from pose_lifter.runtime.detection.tiling import (
    join,
    merge_tiles,
    seen_whole_elsewhere,
    split_at_inner_edges,
    tile_regions,
)
from pose_lifter.runtime.joints import to_15_joints

#: The model shipped with the package (see models/NOTICE.md for provenance and licence).
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "models" / "movenet-multipose.onnx"
MODEL_SHA256 = "f23fe2e758dbe1e97f79930869a9983358ca34074c50a1c856a5ddc1bc013642"
MAX_PERSONS = 6  # per network run (tile)
MAX_TILES = 4
_STRIDE = 32
_NUM_COCO = 17


def whole_input_size(input_size: int) -> int:
    """Return the whole image's input size with tiles (5/8 of ``input_size``, >= 128).

    With tiles the whole image only has to find people wider than the tiles' overlap.
    """
    return max(128, input_size * 5 // 8 // _STRIDE * _STRIDE)


class MoveNetDetector:
    """Multi-person 2D keypoints from an RGB image (a :class:`~.base.Detector`).

    Args:
        input_size: long side of the network input in pixels, a multiple of 32 in [128, 512]
            (256: fastest; 384: better for small people).
        person_threshold: candidates with a person score below this are dropped, in [0, 1].
        joint_threshold: joints (after the COCO-17 to 15 mapping, midpoints taking the lower
            score) with a score below this get confidence 0 and (0, 0), i.e. missing.
        max_persons: at most this many people (highest scores), 1 to 6 per tile.
        tiles: 1 to 4: 1 = the network on the whole image (the fastest); more = on that
            many overlapping tiles along its long side instead, which scales people by the
            image's short side rather than its long one (2 tiles on 640x480: 1.33 times the
            pixels, about 2 times the network time). The whole image is then searched too, at
            :func:`whole_input_size`, only in frames where a tile edge cuts someone no other
            tile sees whole.
        num_threads: CPU threads (>= 1): onnxruntime intra-op threads of each network run, or
            with tiles, that many tiles run at once, one thread each.
        providers: onnxruntime execution providers in order of preference, e.g.
            ``("CUDAExecutionProvider", "CPUExecutionProvider")``; ones this onnxruntime build
            does not offer are skipped, and CPU is always the last fallback.
        model_path: the ONNX file; default :data:`DEFAULT_MODEL_PATH`.

    Raises:
        DetectorError: a parameter out of range, an unknown provider name, or a model file that
            is missing or not this model.
    """

    def __init__(
        self,
        input_size: int = 256,
        person_threshold: float = 0.2,
        joint_threshold: float = 0.2,
        max_persons: int = MAX_PERSONS,
        num_threads: int = 1,
        tiles: int = 1,
        providers: Sequence[str] = ("CPUExecutionProvider",),
        model_path: str | Path | None = None,
    ):
        import onnxruntime as ort

        if int(input_size) != input_size or input_size % _STRIDE or not 128 <= input_size <= 512:
            raise DetectorError(
                f"input_size must be a multiple of {_STRIDE} in [128, 512], " f"got {input_size}"
            )
        for name, value in (
            ("person_threshold", person_threshold),
            ("joint_threshold", joint_threshold),
        ):
            if not 0.0 <= float(value) <= 1.0:
                raise DetectorError(f"{name} must be in [0, 1], got {value}")
        if int(tiles) != tiles or not 1 <= tiles <= MAX_TILES:
            raise DetectorError(f"tiles must be an integer in [1, {MAX_TILES}], got {tiles}")
        most = MAX_PERSONS * int(tiles)
        if int(max_persons) != max_persons or not 1 <= max_persons <= most:
            raise DetectorError(
                f"max_persons must be an integer in [1, {most}] ({tiles} tile(s)), "
                f"got {max_persons}"
            )
        if int(num_threads) != num_threads or num_threads < 1:
            raise DetectorError(f"num_threads must be an integer >= 1, got {num_threads}")
        providers = [providers] if isinstance(providers, str) else list(providers)
        unknown = [p for p in providers if p not in ort.get_all_providers()]
        if unknown:
            raise DetectorError(
                f"unknown onnxruntime execution provider(s) {unknown}; "
                f"available here: {ort.get_available_providers()}"
            )
        available = set(ort.get_available_providers())
        chosen = [p for p in providers if p in available and p != "CPUExecutionProvider"]
        chosen.append("CPUExecutionProvider")
        model_path = Path(model_path) if model_path is not None else DEFAULT_MODEL_PATH
        if not model_path.is_file():
            raise DetectorError(f"MoveNet model file not found: {model_path}")

        # With tiles, the tiles run side by side on num_threads threads, each network run on
        # one: no intra-op barriers (2 tiles on 2 cores: 53-56 instead of 63-70 ms CPU a frame).
        parallel_tiles = min(int(num_threads), int(tiles))
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1 if parallel_tiles > 1 else int(num_threads)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Idle pool threads sleep instead of spinning: spinning bought no speed here and took
        # the CPU the executor and the camera driver need (35 vs 61 ms CPU per frame, 1 tile).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(str(model_path), options, providers=chosen)
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise DetectorError(f"cannot load MoveNet model {model_path}: {exc}") from exc
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if (
            len(inputs) != 1
            or inputs[0].type != "tensor(int32)"
            or len(inputs[0].shape) != 4
            or len(outputs) != 1
            or outputs[0].shape[-1] != 3 * _NUM_COCO + 5
        ):
            raise DetectorError(
                f"{model_path} is not a MoveNet MultiPose model "
                f"(inputs {inputs}, outputs {outputs})"
            )
        self._input_name = inputs[0].name
        self.input_size = int(input_size)
        self.person_threshold = float(person_threshold)
        self.joint_threshold = float(joint_threshold)
        self.max_persons = int(max_persons)
        self.tiles = int(tiles)
        self._pool = (
            ThreadPoolExecutor(parallel_tiles, thread_name_prefix="movenet_tile")
            if parallel_tiles > 1
            else None
        )

    @property
    def providers(self) -> list[str]:
        """Return the execution providers the session actually uses, in priority order."""
        return self._session.get_providers()

    def preprocess(
        self, rgb: np.ndarray, input_size: int | None = None
    ) -> tuple[np.ndarray, tuple[float, float]]:
        """Resize (keeping aspect, long side = ``input_size``) and zero-pad to multiples of 32.

        ``input_size`` defaults to the detector's.

        Returns:
            ``(tensor, (sx, sy))``: the ``int32 (1, Hp, Wp, 3)`` network input and the factors
            that turn normalised padded-input coordinates into input-image pixels
            (``x_px = x_norm * sx - 0.5``, likewise y).
        """
        height, width = rgb.shape[:2]
        scale = (input_size or self.input_size) / max(height, width)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        resized = cv2.resize(rgb, (new_w, new_h), interpolation=interpolation)
        pad_w, pad_h = -(-new_w // _STRIDE) * _STRIDE, -(-new_h // _STRIDE) * _STRIDE
        tensor = np.zeros((1, pad_h, pad_w, 3), np.int32)
        tensor[0, :new_h, :new_w] = resized
        return tensor, (pad_w * width / new_w, pad_h * height / new_h)

    def detect(self, rgb: np.ndarray) -> Detections:
        """Detect people in an RGB ``(H, W, 3)`` uint8 image; see :class:`Detections`."""
        rgb = check_rgb(rgb)
        if self.tiles == 1:
            return self._detect_region(rgb, (0, 0), self.max_persons)
        height, width = rgb.shape[:2]
        regions = tile_regions(width, height, self.tiles)

        def detect_tile(region: tuple[int, int, int, int]) -> tuple[Detections, Detections]:
            x0, y0, x1, y1 = region
            tile = np.ascontiguousarray(rgb[y0:y1, x0:x1])
            found = self._detect_region(tile, (x0, y0), MAX_PERSONS)
            return split_at_inner_edges(found, region, width, height)

        clear, cut = zip(*(self._pool.map if self._pool else map)(detect_tile, regions))
        whole = Detections.empty()
        if not seen_whole_elsewhere(join(cut), join(clear)):
            # someone wider than the overlap: big, so a small input finds them
            whole = self._detect_region(
                rgb, (0, 0), MAX_PERSONS, whole_input_size(self.input_size)
            )
        return merge_tiles([whole, *clear], self.max_persons, cut)

    def close(self) -> None:
        """Stop the tile threads (the detector still works afterwards, tiles one by one)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def _detect_region(
        self, rgb: np.ndarray, origin: tuple[int, int], limit: int, input_size: int | None = None
    ) -> Detections:
        """Detect people in ``rgb``, a region of the image whose top-left pixel is ``origin``."""
        tensor, (sx, sy) = self.preprocess(rgb, input_size)
        raw = self._session.run(None, {self._input_name: tensor})[0][0]  # (6, 56)
        scores = raw[:, 3 * _NUM_COCO + 4]
        keep = np.flatnonzero(scores >= self.person_threshold)
        keep = keep[np.argsort(-scores[keep], kind="stable")][:limit]
        if keep.size == 0:
            return Detections.empty()
        yxs = raw[keep, : 3 * _NUM_COCO].reshape(-1, _NUM_COCO, 3)
        # Normalised coordinates are taken as edge-based (0 = top/left edge of the padded input);
        # the -0.5 moves them to the pixel-centre convention of the rest of the package.
        x0, y0 = origin
        coco = np.stack(
            [yxs[..., 1] * sx - 0.5 + x0, yxs[..., 0] * sy - 0.5 + y0, yxs[..., 2]], axis=-1
        )
        joints = to_15_joints(coco.astype(np.float32), "coco17")
        confidence = np.clip(joints[..., 2], 0.0, 1.0)
        missing = confidence < self.joint_threshold
        confidence[missing] = 0.0
        keypoints = joints[..., :2].copy()
        keypoints[missing] = 0.0
        return Detections(keypoints, confidence, scores[keep].astype(np.float32))
