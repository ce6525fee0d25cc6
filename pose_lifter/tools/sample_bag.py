"""Bags to replay: the bundled camera sample and CMU keypoints bags.

Build bags to replay: the bundled camera sample (``pose-lifter record-sample``) and bags of 2D
keypoints with 3D ground truth from the CMU mocap test split (for tests and evaluation).

The bundled sample bag ``pose_lifter/sample_data/vtest_bag/`` (mcap) holds consecutive frames of
OpenCV's ``vtest.avi`` (Debian package ``opencv-doc``; provenance and licence:
``sample_data/images/README.md``) as ``sensor_msgs/CompressedImage`` JPEGs (640x480, resized
with ``cv2.INTER_AREA``) on ``/camera/image_raw/compressed`` and a ``sensor_msgs/CameraInfo`` per
frame on ``/camera/camera_info``, header stamps at the video's 10 Hz, frame
``camera_optical_frame``.

The CameraInfo is *assumed*, not calibrated: the camera of vtest.avi is unknown. It is a
distortion-free pinhole with a 60 degree horizontal field of view
(fx = fy = 320 / tan(30 deg) = 554.3 px at 640x480) and the principal point at the image centre
((W - 1) / 2, (H - 1) / 2). Metric positions in the demo are only as good as this guess.
"""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from pose_lifter.tools.bag_io import BagError, write_bag

VTEST_VIDEO = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
SAMPLE_BAG = Path(str(resources.files("pose_lifter") / "sample_data" / "vtest_bag"))
IMAGE_TOPIC = "/camera/image_raw/compressed"
CAMERA_INFO_TOPIC = "/camera/camera_info"
KEYPOINTS_TOPIC = "/keypoints_2d"
GROUND_TRUTH_TOPIC = "/ground_truth/joints_3d"
FRAME_ID = "camera_optical_frame"
#: What ``demo.launch.py`` sets on the node beside the parameters file: markers flow even with
#: ``rviz:=false`` (no subscriber), and the camera mode's input is the player's JPEG stream.
DEMO_PARAMETERS = {"always_process": True}
DEMO_IMAGE_PARAMETERS = {
    "input_mode": "image",
    "image.transport": "compressed",
    # the sample's people are 50-130 px tall: the whole frame alone finds about half of them
    "detector.tiles": 2,
    "detector.max_persons": 12,
    "detector.num_threads": 2,
}
#: The OpenPose bridge of ``demo.launch.py``'s keypoints mode: the bundled sample, in a loop.
DEMO_BRIDGE_PARAMETERS = {"mode": "loop", "rate_hz": 10.0, "frame_id": FRAME_ID}
#: Header stamp of the first sample frame (2024-01-01T00:00:00Z): fixed so the bag is reproducible.
FIRST_STAMP_NS = 1_704_067_200 * 1_000_000_000
ASSUMED_HFOV_DEG = 60.0


def pinhole_camera_info(header, camera_matrix: np.ndarray, width: int, height: int):
    """Return the CameraInfo of a distortion-free pinhole ``camera_matrix`` ``(3, 3)``."""
    from sensor_msgs.msg import CameraInfo

    k = np.asarray(camera_matrix, np.float64)
    return CameraInfo(
        header=header,
        width=width,
        height=height,
        distortion_model="plumb_bob",
        d=[0.0] * 5,
        k=k.reshape(-1).tolist(),
        r=np.eye(3).reshape(-1).tolist(),
        p=np.hstack([k, np.zeros((3, 1))]).reshape(-1).tolist(),
    )


def assumed_camera_info(width: int, height: int, header):
    """Return the CameraInfo of the sample (an assumed 60 deg HFOV pinhole; see the module)."""
    focal = 0.5 * width / math.tan(math.radians(ASSUMED_HFOV_DEG / 2))
    k = np.array([[focal, 0.0, (width - 1) / 2], [0.0, focal, (height - 1) / 2], [0, 0, 1]])
    return pinhole_camera_info(header, k, width, height)


def ground_truth_msg(header, joints_3d: np.ndarray):
    """Return true joints ``(P, 15, 3)`` (metres) as a Skeleton3DArray, ids ``gt0``, ``gt1``..."""
    from geometry_msgs.msg import Point
    from pose_lifter_msgs.msg import Keypoint3D, Skeleton3D, Skeleton3DArray

    return Skeleton3DArray(
        header=header,
        skeletons=[
            Skeleton3D(
                id=f"gt{n}",
                score=1.0,
                scale_source=Skeleton3D.SCALE_DEPTH,
                keypoints=[
                    Keypoint3D(position=Point(x=float(x), y=float(y), z=float(z)), confidence=1.0)
                    for x, y, z in np.asarray(joints, np.float64).tolist()
                ],
            )
            for n, joints in enumerate(joints_3d)
        ],
    )


def _header(stamp_ns: int, frame_id: str = FRAME_ID):
    from builtin_interfaces.msg import Time
    from std_msgs.msg import Header

    return Header(
        stamp=Time(sec=stamp_ns // 1_000_000_000, nanosec=stamp_ns % 1_000_000_000),
        frame_id=frame_id,
    )


def record_sample(
    output: str | Path,
    video: str | Path = VTEST_VIDEO,
    first_frame: int = 590,
    count: int = 30,
    size: tuple[int, int] = (640, 480),
    quality: int = 75,
    storage: str = "mcap",
) -> dict[str, Any]:
    """Write the sample bag from ``count`` consecutive frames of ``video`` from ``first_frame``.

    Returns a summary (path, frames, bytes). Raises BagError when the video is missing.
    """
    import cv2
    from sensor_msgs.msg import CompressedImage

    video = Path(video)
    if not video.exists():
        raise BagError(
            f"{video} not found: install Debian's opencv-doc package "
            "(sudo apt-get install -y opencv-doc) or pass --video"
        )
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or 10.0
    capture.set(cv2.CAP_PROP_POS_FRAMES, first_frame)
    period_ns = round(1e9 / fps)
    messages = []
    for i in range(count):
        ok, bgr = capture.read()
        if not ok:
            raise BagError(f"{video}: cannot read frame {first_frame + i}")
        if (bgr.shape[1], bgr.shape[0]) != tuple(size):
            bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
        ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
        stamp = FIRST_STAMP_NS + i * period_ns
        header = _header(stamp)
        image = CompressedImage(header=header, format="jpeg", data=jpeg.tobytes())
        # receive times a little after the stamps, as a recording would have them
        messages.append(
            (CAMERA_INFO_TOPIC, assumed_camera_info(size[0], size[1], header), stamp + 1_000_000)
        )
        messages.append((IMAGE_TOPIC, image, stamp + 2_000_000))
    capture.release()
    path = write_bag(output, messages, storage)
    total = sum(f.stat().st_size for f in path.iterdir())
    return dict(path=str(path), frames=count, first_frame=first_frame, fps=fps, bytes=total)


def cmu_ground_truth_messages(
    npz: str | Path,
    sequence: str = "walking_1",
    camera: int = 0,
    count: int = 20,
    first: int = 0,
    second_person_offset: int | None = 10,
    rate_hz: float = 10.0,
    noise_px: float = 0.0,
    seed: int = 0,
    first_stamp_ns: int = FIRST_STAMP_NS,
):
    """Build a 2D-keypoints bag with 3D ground truth from the CMU test split.

    ``(topic, message, receive_ns)`` triples of a 2D-keypoints bag with 3D ground truth from the
    CMU mocap test split (``training/data/cmu_mocap_15j.npz``).

    Frame i holds sample ``first + i`` of ``sequence`` seen by ``camera`` (and, when
    ``second_person_offset`` is set, sample ``first + offset + i`` of the same sequence and
    camera as a second person): a Skeleton2DArray (the projected 2D joints, confidence 1,
    + ``noise_px`` Gaussian pixel noise) on ``/keypoints_2d``, the sample's CameraInfo (K)
    and the 3D joints (metres, camera frame) as a Skeleton3DArray on ``/ground_truth/joints_3d``,
    all with the same header stamp, at ``rate_hz``.
    """
    from pose_lifter.ros.conversions import skeleton2d_array

    with np.load(npz) as data:
        rows = np.flatnonzero(
            (data["test_sequence"] == sequence) & (data["test_camera"] == camera)
        )
        joints_3d, keypoints_2d = data["test_joints_3d"][rows], data["test_keypoints_2d"][rows]
        k_matrix = data["test_K"][rows[0]].astype(np.float64)
    persons = [first] + ([first + second_person_offset] if second_person_offset else [])
    if max(persons) + count > len(rows):
        raise BagError(
            f"{sequence}/camera {camera} has {len(rows)} samples; asked for "
            f"{max(persons) + count}"
        )
    rng = np.random.default_rng(seed)
    period = round(1e9 / rate_hz)
    messages = []
    for i in range(count):
        stamp = first_stamp_ns + i * period
        header = _header(stamp)
        index = [p + i for p in persons]
        kp = keypoints_2d[index].astype(np.float64) + noise_px * rng.standard_normal(
            (len(index), 15, 2)
        )
        msg = skeleton2d_array(
            header,
            kp,
            np.ones((len(index), 15)),
            np.ones(len(index)),
            [f"gt{n}" for n in range(len(index))],
            (1280, 720),
            "cmu_mocap_15j",
        )
        truth = ground_truth_msg(header, joints_3d[index])
        info = pinhole_camera_info(header, k_matrix, 1280, 720)
        messages += [
            ("/camera_info", info, stamp + 500_000),
            (KEYPOINTS_TOPIC, msg, stamp + 1_000_000),
            (GROUND_TRUTH_TOPIC, truth, stamp + 1_500_000),
        ]
    return messages, joints_3d[[p + i for i in range(count) for p in persons]].reshape(
        count, len(persons), 15, 3
    )


def openpose_sample_frames(persons: int | None = None) -> list[np.ndarray]:
    """Per frame of the bundled OpenPose sample, ``(P, 15, 3)`` keypoints (x px, y px, confidence).

    ``persons`` None: the sample's own two people. Else ``persons`` copies of them, each further
    pair shifted 220 px to the right (present joints only), for load runs with more people.
    """
    from pose_lifter.ros.openpose_bridge import SAMPLE_DIRECTORY
    from pose_lifter.runtime.openpose_json import read_openpose_directory

    frames = []
    for frame in read_openpose_directory(SAMPLE_DIRECTORY):
        people = frame.keypoints_2d.astype(np.float64)
        if persons is not None:
            people = np.stack([people[i % len(people)] for i in range(persons)])
            shift = 220.0 * (np.arange(persons) // 2)[:, None] * (people[:, :, 2] > 0)
            people[:, :, 0] += shift
        frames.append(people)
    return frames


def openpose_sample_msg(header, keypoints: np.ndarray):
    """Build the Skeleton2DArray of ``(P, 15, 3)`` OpenPose-sample keypoints (x, y, confidence).

    The sample's image size (1280x720) and format (``openpose_body25``), every person scored 1
    with an empty id.
    """
    from pose_lifter.ros.conversions import skeleton2d_array

    persons = len(keypoints)
    return skeleton2d_array(
        header,
        keypoints[..., :2],
        keypoints[..., 2],
        np.ones(persons),
        [""] * persons,
        (1280, 720),
        "openpose_body25",
    )


def openpose_sample_messages(
    persons: int | None = None, frame_id: str = FRAME_ID, first_sec: int = 1000, nanosec: int = 0
) -> list:
    """One Skeleton2DArray per sample frame (:func:`openpose_sample_frames`), 1 s apart."""
    from builtin_interfaces.msg import Time
    from std_msgs.msg import Header

    return [
        openpose_sample_msg(
            Header(stamp=Time(sec=first_sec + i, nanosec=nanosec), frame_id=frame_id), keypoints
        )
        for i, keypoints in enumerate(openpose_sample_frames(persons))
    ]


def openpose_sample_stream(persons: int = 3):
    """Yield endless Skeleton2DArray messages for load and soak runs.

    The sample's frames with ``persons`` people (:func:`openpose_sample_frames`), moved to a new
    place every 200 messages so tracks and filters are created and forgotten; stamps advance
    1/30 s.
    """
    from builtin_interfaces.msg import Time
    from std_msgs.msg import Header

    frames = openpose_sample_frames(persons)
    index = 0
    while True:
        keypoints = frames[index % len(frames)].copy()
        keypoints[:, :, 1] += 40.0 * (index // 200 % 7) * (keypoints[:, :, 2] > 0)
        header = Header(
            stamp=Time(sec=1000 + index // 30, nanosec=(index % 30) * 33_000_000),
            frame_id=FRAME_ID,
        )
        yield openpose_sample_msg(header, keypoints)
        index += 1


RGBD_SAMPLE_BAG = Path(str(resources.files("pose_lifter") / "sample_data" / "rgbd_bag"))
RGBD_FRAME_ID = "camera_color_optical_frame"
RGBD_CAMERA_INFO_TOPIC = "/camera/color/camera_info"
RGBD_DEPTH_TOPIC = "/camera/aligned_depth_to_color/image_raw"


def rgbd_sample_messages(
    poses_m: np.ndarray,
    count: int = 10,
    seed: int = 0,
    compressed: bool = True,
    rate_hz: float = 10.0,
    first_stamp_ns: int = FIRST_STAMP_NS,
):
    """Build an RGB-D keypoints bag from synthetic depth scenes of real mocap poses.

    ``(topic, message, receive_ns)`` triples and the true joints ``(count, P, 15, 3)`` (NaN rows
    pad frames with one person): per frame (:func:`pose_lifter.tools.synthetic_rgbd.sample_scenes`,
    one or two people 1-6 m away, 640x480, f = 525 px) the CameraInfo on
    ``/camera/color/camera_info``, the aligned depth image on
    ``/camera/aligned_depth_to_color/image_raw`` (16UC1 mm; with ``compressed`` as
    image_transport's compressedDepth on ``.../image_raw/compressedDepth``), the 2D keypoints
    on ``/keypoints_2d`` and the true joints on ``/ground_truth/joints_3d``, one header stamp
    per frame (depth before keypoints, as a detector's latency orders them).
    """
    from pose_lifter.ros.conversions import depth_image_msg, skeleton2d_array
    from pose_lifter.runtime.depth_image import compress_depth_png
    from pose_lifter.tools.synthetic_rgbd import CAMERA_MATRIX, HEIGHT, WIDTH, sample_scenes
    from sensor_msgs.msg import CompressedImage

    period = round(1e9 / rate_hz)
    messages, truths = [], []
    for i, scene in enumerate(sample_scenes(poses_m, count, seed)):
        stamp = first_stamp_ns + i * period
        header = _header(stamp, RGBD_FRAME_ID)
        info = pinhole_camera_info(header, CAMERA_MATRIX, WIDTH, HEIGHT)
        if compressed:
            fmt, data = compress_depth_png(scene.depth_m)
            depth = CompressedImage(header=header, format=fmt, data=data)
            depth_topic = RGBD_DEPTH_TOPIC + "/compressedDepth"
        else:
            depth = depth_image_msg(header, scene.depth_m)
            depth_topic = RGBD_DEPTH_TOPIC
        people = len(scene.joints_3d)
        keypoints = skeleton2d_array(
            header,
            scene.keypoints_2d,
            scene.confidence,
            np.ones(people),
            [f"gt{n}" for n in range(people)],
            (WIDTH, HEIGHT),
            "synthetic_rgbd",
        )
        truth = ground_truth_msg(header, scene.joints_3d)
        messages += [
            (RGBD_CAMERA_INFO_TOPIC, info, stamp + 500_000),
            (depth_topic, depth, stamp + 1_000_000),
            (KEYPOINTS_TOPIC, keypoints, stamp + 20_000_000),
            (GROUND_TRUTH_TOPIC, truth, stamp + 20_500_000),
        ]
        padded = np.full((2, 15, 3), np.nan)
        padded[:people] = scene.joints_3d
        truths.append(padded)
    return messages, np.array(truths)


def record_rgbd_sample(
    output: str | Path, cmu_npz: str | Path, count: int = 10, seed: int = 0, storage: str = "mcap"
) -> dict[str, Any]:
    """Write the RGB-D sample bag (compressedDepth) from every 12th CMU test pose."""
    with np.load(cmu_npz) as data:
        poses = data["test_joints_3d"][::12].astype(np.float64)
    messages, _ = rgbd_sample_messages(poses, count, seed, compressed=True)
    path = write_bag(output, messages, storage)
    total = sum(f.stat().st_size for f in path.iterdir())
    return dict(path=str(path), frames=count, bytes=total)
