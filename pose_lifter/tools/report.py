"""Replay report: per-frame records -> summary metrics (JSON) and one Plotly HTML page.

The page (plotly.js embedded, opens offline) holds
- an animated figure with a time slider: 3D skeletons (camera frame drawn upright: x right,
  depth, up = -y), the 2D input keypoints over the image (when the input was images), and a
  front view (x, up) and top view (x, depth) of the 3D skeletons as plain 2D (SVG) plots, so
  the skeleton is visible even where WebGL is not;
- per-frame charts: processing latency, persons per frame (2D in / 3D out), id switches, joints
  missing;
- a summary table (latency percentiles, drops, ground-truth accuracy when present).

Colours follow the person id (:func:`pose_lifter.runtime.colours.colour_for_id`), the same in
all views and in RViz.

Definitions:
- *latency*: wall time from handing the input message to the processing code path to having
  its outputs (detector + lifting pipeline), per message.
- *id switches*: the tracker never reuses ids, so a frame in which ``k`` ids vanish and ``m``
  ids never seen before appear counts ``min(k, m)`` switches (a person re-identified under a
  new id); persons that only enter or leave the view do not count.
- *joints missing*: lifted persons' joints with confidence 0 (not detected in 2D; their 3D
  position is the lifter's prediction).
- *steadiness* (no ground truth needed): per track of at least :data:`MIN_TRACK_FRAMES`
  frames, the bone-length coefficient of variation (:func:`pose_lifter.runtime.metrics.
  bone_length_cv`; 0 = rigid bones) and the mean acceleration of the root-relative joints
  (m/s^2, over consecutive frames of the track, from the stamps).
- *ground truth* (N-MPJPE / PA-MPJPE, :mod:`pose_lifter.runtime.metrics`): each ground-truth
  person is matched to the predicted person with the nearest root direction (MidHip x/z, y/z;
  greedy, nearest first). The *flat baseline* is the ground truth itself flattened onto the depth
  of its root along the camera rays (perfect 2D, zero relative depth): a lifter must beat it.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from pose_lifter.runtime.colours import PALETTE, colour_for_id, to_hex
from pose_lifter.runtime.joints import JOINT_NAMES, NUM_JOINTS, ROOT
from pose_lifter.runtime.matching import greedy_pairs
from pose_lifter.runtime.metrics import bone_length_cv, n_mpjpe, pa_mpjpe
from pose_lifter.tools.plot_lines import bone_lines

#: Colours of the report's charts (persons have their own: :func:`colour_for_id`).
CHART_COLOURS = tuple(to_hex(rgb) for rgb in PALETTE[2:5])
#: Tracks shorter than this (frames) are left out of the steadiness figures.
MIN_TRACK_FRAMES = 5
#: Largest root-direction distance (|x/z, y/z| difference, ~radians) for a ground-truth match.
GT_MATCH_MAX = 0.15


@dataclass
class FrameRecord:
    """What one input message produced.

    Attributes:
        index: position among the processed input messages. topic: its topic.
        bag_time_ns: receive time in the bag. stamp_ns: header stamp (ns).
        latency_ms: processing wall time (detector + pipeline).
        keypoints_2d: ``(P, 15, 2)`` pixels fed to the pipeline; confidence_2d ``(P, 15)``.
        ids: the ``Q`` output ids; joints_3d ``(Q, 15, 3)`` metres; confidence_3d ``(Q, 15)``.
        source_2d: for each output person the index of its 2D input person.
        dropped: the pipeline dropped the whole message (no outputs).
        image_jpeg: the input image as JPEG bytes (image inputs only), image_size ``(w, h)``
            of the input, image_pixel_size: input pixels per JPEG pixel (downscaled images).
        ground_truth: ``(G, 15, 3)`` ground-truth joints (metres, camera frame) or None.
        scale_sources: per output person, its ``Skeleton3D.scale_source`` (0 normalised,
            1 assumed height, 2 depth).
    """

    index: int
    topic: str
    bag_time_ns: int
    stamp_ns: int
    latency_ms: float
    keypoints_2d: np.ndarray
    confidence_2d: np.ndarray
    ids: list[str]
    joints_3d: np.ndarray
    confidence_3d: np.ndarray
    source_2d: list[int] = field(default_factory=list)
    dropped: bool = False
    image_jpeg: bytes | None = None
    image_size: tuple[int, int] = (0, 0)
    image_pixel_size: float = 1.0
    ground_truth: np.ndarray | None = None
    scale_sources: list[int] = field(default_factory=list)


#: Names of the ``Skeleton3D.scale_source`` values, as the report shows them.
SCALE_SOURCE_NAMES = {0: "normalized", 1: "assumed_height", 2: "depth"}


def scale_source_counts(records: Sequence[FrameRecord]) -> dict[str, int]:
    """How many output persons had each scale source (by name)."""
    counts = {name: 0 for name in SCALE_SOURCE_NAMES.values()}
    for record in records:
        for source in record.scale_sources:
            counts[SCALE_SOURCE_NAMES.get(source, str(source))] += 1
    return counts


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    """p50/p95/p99/mean/max of ``values`` (None when empty), rounded to 0.01."""
    if len(values) == 0:
        return dict(p50=None, p95=None, p99=None, mean=None, max=None, count=0)
    v = np.asarray(values, dtype=np.float64)
    stats = dict(
        p50=np.percentile(v, 50),
        p95=np.percentile(v, 95),
        p99=np.percentile(v, 99),
        mean=v.mean(),
        max=v.max(),
    )
    return {**{k: round(float(x), 2) for k, x in stats.items()}, "count": int(len(v))}


def id_switches(records: Sequence[FrameRecord]) -> list[int]:
    """Per-frame id switches (see the module docstring)."""
    seen: set[str] = set()
    previous: set[str] = set()
    result = []
    for record in records:
        current = set(record.ids)
        new, lost = current - seen, previous - current
        result.append(min(len(new), len(lost)))
        seen |= current
        previous = current
    return result


def match_ground_truth(
    predicted: np.ndarray, truth: np.ndarray, max_distance: float = GT_MATCH_MAX
) -> list[tuple[int, int]]:
    """``(predicted index, truth index)`` pairs matched by root direction, nearest first."""
    if len(predicted) == 0 or len(truth) == 0:
        return []

    def direction(poses):
        root = poses[:, ROOT]
        return root[:, :2] / np.where(np.abs(root[:, 2:]) > 1e-6, root[:, 2:], 1e-6)

    cost = np.linalg.norm(direction(predicted)[:, None] - direction(truth)[None], axis=2)
    return greedy_pairs(cost, max_distance)


def flat_baseline(truth: np.ndarray) -> np.ndarray:
    """Ground truth flattened onto its root depth along the camera rays: ``(N, 15, 3)``."""
    depth = truth[..., 2:3]
    root_depth = truth[:, ROOT : ROOT + 1, 2:3]
    return truth * root_depth / np.where(np.abs(depth) > 1e-6, depth, 1e-6)


def ground_truth_metrics(records: Sequence[FrameRecord]) -> dict[str, Any] | None:
    """Score the matched persons and the flat baseline.

    N-MPJPE / PA-MPJPE (mm) of the matched persons and of the flat baseline, absolute MPJPE
    (camera frame, no alignment, mm) and the root-depth error (% of the true distance); None
    without ground truth.
    """
    frames = [r for r in records if r.ground_truth is not None]
    if not frames:
        return None
    predicted, truth, persons = [], [], 0
    for record in frames:
        gt = np.asarray(record.ground_truth, dtype=np.float64).reshape(-1, NUM_JOINTS, 3)
        gt = gt[np.isfinite(gt).all(axis=(1, 2))]
        persons += len(gt)
        for p, t in match_ground_truth(np.asarray(record.joints_3d, np.float64), gt):
            predicted.append(record.joints_3d[p])
            truth.append(gt[t])
    result: dict[str, Any] = dict(
        frames=len(frames), persons=persons, matched=len(truth), missed=persons - len(truth)
    )
    if truth:
        predicted_a, truth_a = np.asarray(predicted, np.float64), np.asarray(truth, np.float64)
        flat = flat_baseline(truth_a)
        result.update(
            n_mpjpe_mm=round(1000 * n_mpjpe(predicted_a, truth_a), 1),
            pa_mpjpe_mm=round(1000 * pa_mpjpe(predicted_a, truth_a), 1),
            # metric placement: no alignment at all (camera frame), and the root's distance
            abs_mpjpe_mm=round(
                1000 * float(np.linalg.norm(predicted_a - truth_a, axis=-1).mean()), 1
            ),
            root_depth_error_pct=percentiles(
                100
                * np.abs(predicted_a[:, ROOT, 2] - truth_a[:, ROOT, 2])
                / np.abs(truth_a[:, ROOT, 2])
            ),
            flat_baseline=dict(
                n_mpjpe_mm=round(1000 * n_mpjpe(flat, truth_a), 1),
                pa_mpjpe_mm=round(1000 * pa_mpjpe(flat, truth_a), 1),
            ),
        )
    return result


def track_steadiness(records: Sequence[FrameRecord]) -> dict[str, Any] | None:
    """Bone-length CV and root-relative acceleration per track (see the module docstring)."""
    tracks: dict[str, list[tuple[int, np.ndarray]]] = {}
    for record in records:
        for person, person_id in enumerate(record.ids):
            tracks.setdefault(person_id, []).append(
                (record.stamp_ns, np.asarray(record.joints_3d[person], np.float64))
            )
    cvs, accelerations = {}, []
    for person_id, frames in tracks.items():
        if len(frames) < MIN_TRACK_FRAMES:
            continue
        stamps = np.array([stamp for stamp, _ in frames]) * 1e-9
        joints = np.stack([joints for _, joints in frames])
        cvs[person_id] = round(bone_length_cv(joints), 4)
        relative = joints - joints[:, ROOT : ROOT + 1]
        dt = np.diff(stamps)
        if len(dt) >= 2 and (dt > 0).all():
            velocity = np.diff(relative, axis=0) / dt[:, None, None]
            accel = np.diff(velocity, axis=0) / (0.5 * (dt[1:] + dt[:-1]))[:, None, None]
            accelerations.append(np.linalg.norm(accel, axis=2).mean())
    if not cvs:
        return None
    values = np.array(list(cvs.values()))
    return dict(
        tracks=len(cvs),
        bone_length_cv_mean=round(float(values.mean()), 4),
        bone_length_cv_max=round(float(values.max()), 4),
        bone_length_cv_by_track=cvs,
        relative_acceleration_mps2_mean=(
            round(float(np.mean(accelerations)), 2) if accelerations else None
        ),
    )


def summarize(
    records: Sequence[FrameRecord], extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Summarise the report: counts, latency, ids, missing joints, accuracy.

    The report's summary: counts, latency percentiles (ms), ids, joints missing, accuracy.
    """
    switches = id_switches(records)
    missing = np.zeros(NUM_JOINTS, dtype=int)
    for record in records:
        if len(record.ids):
            missing += (np.asarray(record.confidence_3d) <= 0).sum(axis=0)
    persons_out = [len(r.ids) for r in records]
    summary: dict[str, Any] = dict(
        frames=len(records),
        frames_dropped=sum(r.dropped for r in records),
        persons_2d=int(sum(len(r.keypoints_2d) for r in records)),
        persons_3d=int(sum(persons_out)),
        persons_per_frame_mean=round(float(np.mean(persons_out)), 2) if records else None,
        persons_per_frame_max=int(max(persons_out, default=0)),
        unique_ids=len({i for r in records for i in r.ids}),
        persons_by_scale_source=scale_source_counts(records),
        id_switches=int(sum(switches)),
        joints_missing=int(missing.sum()),
        joints_missing_by_joint={name: int(n) for name, n in zip(JOINT_NAMES, missing)},
        latency_ms=percentiles([r.latency_ms for r in records]),
        steadiness=track_steadiness(records),
        ground_truth=ground_truth_metrics(records),
    )
    if extra:
        summary.update(extra)
    return summary


def per_frame_table(records: Sequence[FrameRecord]) -> list[dict[str, Any]]:
    """JSON-friendly per-frame rows (no arrays)."""
    switches = id_switches(records)
    return [
        dict(
            index=r.index,
            topic=r.topic,
            bag_time_ns=r.bag_time_ns,
            stamp_ns=r.stamp_ns,
            latency_ms=round(r.latency_ms, 3),
            persons_2d=len(r.keypoints_2d),
            persons_3d=len(r.ids),
            ids=list(r.ids),
            scale_sources=[SCALE_SOURCE_NAMES.get(v, str(v)) for v in r.scale_sources],
            id_switches=s,
            dropped=r.dropped,
            joints_missing=int((np.asarray(r.confidence_3d) <= 0).sum()) if len(r.ids) else 0,
        )
        for r, s in zip(records, switches)
    ]


# --------------------------------------------------------------------------- figures
def _colours(records: Sequence[FrameRecord]) -> dict[str, str]:
    """Each person id's colour, as RViz shows it."""
    return {i: to_hex(colour_for_id(i)) for record in records for i in record.ids}


def _range(values: np.ndarray, pad: float = 0.1, minimum: float = 1.0) -> list[float]:
    if values.size == 0:
        return [-minimum, minimum]
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    half = max(high - low, minimum) * (0.5 + pad)
    centre = 0.5 * (low + high)
    return [centre - half, centre + half]


def _image_source(record: FrameRecord) -> str | None:
    if record.image_jpeg is None:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(record.image_jpeg).decode("ascii")


def _person_label(record: FrameRecord, slot: int) -> str:
    """``<id> (<scale source>)``: which person and where its metric scale came from."""
    source = record.scale_sources[slot] if slot < len(record.scale_sources) else None
    name = SCALE_SOURCE_NAMES.get(source, "?") if source is not None else "?"
    return f"{record.ids[slot]} ({name})"


def skeleton_animation(records: Sequence[FrameRecord], title: str = "pose_lifter replay"):
    """Return the animated figure (3D, 2D overlay, front and top views) with a time slider."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    colours = _colours(records)
    slots = max([len(r.ids) for r in records] + [len(r.keypoints_2d) for r in records] + [1])
    has_images = any(r.image_jpeg is not None for r in records)
    figure = make_subplots(
        rows=2,
        cols=2,
        specs=[[{"type": "scene"}, {"type": "xy"}], [{"type": "xy"}, {"type": "xy"}]],
        subplot_titles=(
            "3D skeletons (camera frame, m)",
            "2D input" + (" over the image" if has_images else " keypoints") + " (px)",
            "front view of the 3D skeletons (x right, up)",
            "top view of the 3D skeletons (x right, depth)",
        ),
        horizontal_spacing=0.06,
        vertical_spacing=0.08,
    )
    t0 = records[0].stamp_ns if records else 0
    allj = np.concatenate(
        [np.asarray(r.joints_3d).reshape(-1, 3) for r in records] + [np.zeros((0, 3))]
    )
    all2 = np.concatenate(
        [
            np.asarray(r.keypoints_2d)[np.asarray(r.confidence_2d) > 0]
            for r in records
            if len(r.keypoints_2d)
        ]
        + [np.zeros((0, 2))]
    )
    width = max([r.image_size[0] for r in records] + [0])
    height = max([r.image_size[1] for r in records] + [0])

    def frame_traces(record: FrameRecord) -> list:
        traces = []
        if has_images:
            source = _image_source(record)
            traces.append(
                go.Image(
                    source=source or "",
                    x0=0,
                    y0=0,
                    dx=record.image_pixel_size,
                    dy=record.image_pixel_size,
                    hoverinfo="skip",
                    xaxis="x",
                    yaxis="y",
                )
            )
        ids = list(record.ids)
        joints = np.asarray(record.joints_3d, dtype=np.float64).reshape(-1, NUM_JOINTS, 3)
        for slot in range(slots):
            if slot < len(ids):
                colour, j = colours[ids[slot]], joints[slot]
                x, y, z = bone_lines(np.stack([j[:, 0], j[:, 2], -j[:, 1]], axis=1))
                traces.append(
                    go.Scatter3d(
                        x=x + list(j[:, 0]),
                        y=y + list(j[:, 2]),
                        z=z + list(-j[:, 1]),
                        mode="lines+markers",
                        name=_person_label(record, slot),
                        showlegend=False,
                        line=dict(color=colour, width=6),
                        marker=dict(size=3, color=colour),
                        scene="scene",
                    )
                )
            else:
                traces.append(
                    go.Scatter3d(
                        x=[None],
                        y=[None],
                        z=[None],
                        mode="markers",
                        showlegend=False,
                        scene="scene",
                    )
                )
        # 2D overlay: each input person, coloured by the id it was lifted to (grey: not lifted)
        owner = {src: ids[q] for q, src in enumerate(record.source_2d) if q < len(ids)}
        kp, conf = np.asarray(record.keypoints_2d), np.asarray(record.confidence_2d)
        for slot in range(slots):
            if slot < len(kp):
                pts = np.where((conf[slot] > 0)[:, None], kp[slot], np.nan)
                colour = colours.get(owner.get(slot, ""), "#7f7f7f")
                x, y = bone_lines(pts)
                traces.append(
                    go.Scatter(
                        x=x + list(pts[:, 0]),
                        y=y + list(pts[:, 1]),
                        mode="lines+markers",
                        showlegend=False,
                        connectgaps=False,
                        name=owner.get(slot, "not lifted"),
                        line=dict(color=colour, width=3),
                        marker=dict(size=5, color=colour),
                        xaxis="x",
                        yaxis="y",
                    )
                )
            else:
                traces.append(
                    go.Scatter(
                        x=[None], y=[None], mode="markers", showlegend=False, xaxis="x", yaxis="y"
                    )
                )
        for axes, columns in ((("x2", "y2"), (0, None)), (("x3", "y3"), (0, 2))):
            for slot in range(slots):
                if slot < len(ids):
                    j = joints[slot]
                    second = -j[:, 1] if columns[1] is None else j[:, 2]
                    pts = np.stack([j[:, 0], second], axis=1)
                    colour = colours[ids[slot]]
                    x, y = bone_lines(pts)
                    traces.append(
                        go.Scatter(
                            x=x + list(pts[:, 0]),
                            y=y + list(pts[:, 1]),
                            mode="lines+markers",
                            name=ids[slot],
                            showlegend=False,
                            line=dict(color=colour, width=4),
                            marker=dict(size=5, color=colour),
                            xaxis=axes[0],
                            yaxis=axes[1],
                        )
                    )
                else:
                    traces.append(
                        go.Scatter(
                            x=[None],
                            y=[None],
                            mode="markers",
                            showlegend=False,
                            xaxis=axes[0],
                            yaxis=axes[1],
                        )
                    )
        return traces

    def label(record: FrameRecord) -> str:
        return f"{record.index} ({(record.stamp_ns - t0) * 1e-9:.1f} s)"

    def frame_title(record: FrameRecord) -> str:
        people = ", ".join(_person_label(record, q) for q in range(len(record.ids)))
        return (
            f"{title}: frame {record.index}, t = {(record.stamp_ns - t0) * 1e-9:.2f} s, "
            f"{len(record.ids)} person(s) [{people}], {record.latency_ms:.0f} ms"
        )

    first = frame_traces(records[0]) if records else []
    for trace in first:
        figure.add_trace(trace)
    x_range = _range(allj[:, 0]) if len(allj) else [-1, 1]
    up_range = _range(-allj[:, 1]) if len(allj) else [-1, 1]
    depth_range = _range(allj[:, 2]) if len(allj) else [0, 5]
    if width and height:
        img_x, img_y = [0, width], [height, 0]
    else:
        img_x, img_y = _range(all2[:, 0], minimum=100.0), _range(all2[:, 1], minimum=100.0)[::-1]
    figure.update_layout(
        title=dict(text=frame_title(records[0]) if records else title, x=0.01, font=dict(size=14)),
        height=800,
        margin=dict(l=10, r=10, t=60, b=10),
        showlegend=False,
        plot_bgcolor="white",
        scene=dict(
            xaxis=dict(title="x (right)", range=x_range),
            yaxis=dict(title="z (depth)", range=depth_range),
            zaxis=dict(title="up (-y)", range=up_range),
            aspectmode="cube",
        ),
        xaxis=dict(range=img_x, showgrid=False, constrain="domain"),
        yaxis=dict(range=img_y, showgrid=False, scaleanchor="x"),
        xaxis2=dict(range=x_range, title="x (m)", gridcolor="#eeeeee", zeroline=False),
        yaxis2=dict(
            range=up_range, title="up (m)", scaleanchor="x2", gridcolor="#eeeeee", zeroline=False
        ),
        xaxis3=dict(range=x_range, title="x (m)", gridcolor="#eeeeee", zeroline=False),
        yaxis3=dict(
            range=depth_range,
            title="depth (m)",
            scaleanchor="x3",
            gridcolor="#eeeeee",
            zeroline=False,
        ),
    )
    if len(records) > 1:
        figure.frames = [
            go.Frame(
                data=frame_traces(r), name=str(i), layout=dict(title=dict(text=frame_title(r)))
            )
            for i, r in enumerate(records)
        ]
        figure.update_layout(
            updatemenus=[
                dict(
                    type="buttons",
                    showactive=False,
                    x=0.0,
                    y=-0.08,
                    xanchor="left",
                    yanchor="top",
                    direction="left",
                    pad=dict(t=0, r=10),
                    buttons=[
                        dict(
                            label="Play",
                            method="animate",
                            args=[
                                None,
                                dict(frame=dict(duration=100, redraw=True), fromcurrent=True),
                            ],
                        ),
                        dict(
                            label="Pause",
                            method="animate",
                            args=[
                                [None],
                                dict(mode="immediate", frame=dict(duration=0, redraw=False)),
                            ],
                        ),
                    ],
                )
            ],
            sliders=[
                dict(
                    x=0.16,
                    len=0.84,
                    y=-0.06,
                    yanchor="top",
                    pad=dict(t=0),
                    currentvalue=dict(prefix="frame ", xanchor="right"),
                    steps=[
                        dict(
                            method="animate",
                            label=label(r),
                            args=[
                                [str(i)],
                                dict(mode="immediate", frame=dict(duration=0, redraw=True)),
                            ],
                        )
                        for i, r in enumerate(records)
                    ],
                )
            ],
        )
        figure.update_layout(margin=dict(b=110))
    return figure


def statistics_figure(records: Sequence[FrameRecord]):
    """Per-frame latency, persons, id switches and joints missing against stream time."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    t0 = records[0].stamp_ns if records else 0
    t = [(r.stamp_ns - t0) * 1e-9 for r in records]
    figure = make_subplots(
        rows=4,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=(
            "processing latency per frame (ms)",
            "persons per frame (2D in, 3D out)",
            "id switches per frame",
            "joints missing per frame",
        ),
    )
    figure.add_trace(
        go.Scatter(
            x=t, y=[r.latency_ms for r in records], mode="lines+markers", name="latency (ms)"
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Bar(
            x=t,
            y=[len(r.keypoints_2d) for r in records],
            name="2D persons in",
            marker_color="#aec7e8",
        ),
        row=2,
        col=1,
    )
    figure.add_trace(
        go.Scatter(
            x=t,
            y=[len(r.ids) for r in records],
            mode="lines+markers",
            name="3D persons out",
            line=dict(color=CHART_COLOURS[0]),
        ),
        row=2,
        col=1,
    )
    figure.add_trace(
        go.Bar(x=t, y=id_switches(records), name="id switches", marker_color=CHART_COLOURS[1]),
        row=3,
        col=1,
    )
    figure.add_trace(
        go.Bar(
            x=t,
            y=[
                int((np.asarray(r.confidence_3d) <= 0).sum()) if len(r.ids) else 0 for r in records
            ],
            name="joints missing",
            marker_color=CHART_COLOURS[2],
        ),
        row=4,
        col=1,
    )
    figure.update_xaxes(title_text="stream time (s, header stamps)", row=4, col=1)
    figure.update_layout(
        height=760,
        margin=dict(l=50, r=10, t=40, b=40),
        barmode="overlay",
        legend=dict(orientation="h", y=1.06),
    )
    return figure


def _summary_rows(summary: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows = []
    for key, value in summary.items():
        if isinstance(value, dict):
            rows += _summary_rows(value, f"{prefix}{key}.")
        else:
            rows.append((f"{prefix}{key}", "" if value is None else str(value)))
    return rows


def render_html(
    records: Sequence[FrameRecord],
    summary: dict[str, Any],
    path: str | Path,
    title: str = "pose_lifter replay",
) -> Path:
    """Write the report page (plotly.js embedded once) and return its path."""
    if not records:
        raise ValueError("no frames to report")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    animation = skeleton_animation(records, title).to_html(
        full_html=False, include_plotlyjs=True, auto_play=False, div_id="skeletons"
    )
    stats = statistics_figure(records).to_html(
        full_html=False, include_plotlyjs=False, div_id="statistics"
    )
    table = "\n".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
        for k, v in _summary_rows(summary)
    )
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:0 8px}} table{{border-collapse:collapse;font-size:13px}}
td{{border:1px solid #ccc;padding:2px 6px}} h2{{font-size:16px}}</style></head>
<body>
{animation}
<h2>Per-frame statistics</h2>
{stats}
<h2>Summary</h2>
<table>{table}</table>
<script type="application/json" id="summary">{html.escape(json.dumps(summary))}</script>
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path


def write_json(summary: dict[str, Any], records: Sequence[FrameRecord], path: str | Path) -> Path:
    """``{"summary": ..., "frames": [...]}`` as JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(dict(summary=summary, frames=per_frame_table(records)), indent=2),
        encoding="utf-8",
    )
    return path
