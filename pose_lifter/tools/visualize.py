"""Interactive 3D stick figures with Plotly (the seed's visualisation), one self-contained HTML.

Poses are in the camera optical frame (x right, y down, z forward). They are drawn with the
person upright: plot axes (x, z, -y) = (right, depth, up).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from pose_lifter.runtime.colours import colour_for_id, to_hex
from pose_lifter.runtime.joints import JOINT_NAMES
from pose_lifter.tools.plot_lines import bone_lines


def _person_traces(
    joints_3d: np.ndarray, label: str, colour: str, offset_x: float
) -> list[go.Scatter3d]:
    """Bones as one line trace (None-separated segments) plus a joint marker trace."""
    x = joints_3d[:, 0] + offset_x
    depth, up = joints_3d[:, 2], -joints_3d[:, 1]
    line_x, line_y, line_z = bone_lines(np.stack([x, depth, up], axis=1))
    return [
        go.Scatter3d(
            x=line_x,
            y=line_y,
            z=line_z,
            mode="lines",
            name=f"{label} bones",
            line=dict(color=colour, width=6),
            showlegend=False,
        ),
        go.Scatter3d(
            x=x,
            y=depth,
            z=up,
            mode="markers",
            name=label,
            text=list(JOINT_NAMES),
            marker=dict(size=4, color=colour),
        ),
    ]


def _frame_traces(people: np.ndarray, labels: Sequence[str], spacing: float) -> list[go.Scatter3d]:
    traces = []
    for index, (pose, label) in enumerate(zip(people, labels)):
        traces += _person_traces(pose, label, to_hex(colour_for_id(label)), index * spacing)
    return traces


def skeleton_figure(
    frames: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    labels: Sequence[Sequence[str]] | None = None,
    spacing: float = 0.0,
) -> go.Figure:
    """Figure of 3D skeletons, animated with a slider when there is more than one frame.

    Args:
        frames: per frame an ``(P, 15, 3)`` array of root-relative or camera-frame poses.
        titles: per-frame titles (slider labels). labels: per-frame person labels.
        spacing: x offset between persons of a frame (0 keeps their own positions).
    """
    if not frames:
        raise ValueError("no frames to draw")
    titles = list(titles) if titles is not None else [f"frame {i}" for i in range(len(frames))]
    labels = labels or [[f"person {j}" for j in range(len(f))] for f in frames]
    max_people = max(len(f) for f in frames)
    everything = np.concatenate(
        [np.asarray(f).reshape(-1, 3) for f in frames if len(f)] or [np.zeros((1, 3))]
    )
    span = np.ptp(everything, axis=0).max() + spacing * max(max_people - 1, 0)
    centre = everything.mean(axis=0)

    def padded(index: int) -> list[go.Scatter3d]:
        traces = _frame_traces(np.asarray(frames[index]), labels[index], spacing)
        blank = go.Scatter3d(x=[None], y=[None], z=[None], mode="markers", showlegend=False)
        return traces + [blank] * (
            2 * max_people - len(traces)
        )  # constant trace count for animation

    figure = go.Figure(data=padded(0))
    half = 0.6 * max(span, 1e-3)
    figure.update_layout(
        title=titles[0],
        scene=dict(
            xaxis=dict(
                title="x (right)",
                range=[centre[0] - half, centre[0] + half + spacing * max_people],
            ),
            yaxis=dict(title="z (depth)", range=[centre[2] - half, centre[2] + half]),
            zaxis=dict(title="up (-y)", range=[-centre[1] - half, -centre[1] + half]),
            aspectmode="cube",
        ),
        margin=dict(l=0, r=0, t=40, b=0),
    )
    if len(frames) > 1:
        figure.frames = [
            go.Frame(data=padded(i), name=str(i), layout=dict(title=titles[i]))
            for i in range(len(frames))
        ]
        figure.update_layout(
            updatemenus=[
                dict(
                    type="buttons",
                    showactive=False,
                    buttons=[
                        dict(
                            label="Play",
                            method="animate",
                            args=[None, dict(frame=dict(duration=100), fromcurrent=True)],
                        ),
                        dict(
                            label="Pause", method="animate", args=[[None], dict(mode="immediate")]
                        ),
                    ],
                )
            ],
            sliders=[
                dict(
                    steps=[
                        dict(
                            method="animate",
                            label=titles[i],
                            args=[[str(i)], dict(mode="immediate", frame=dict(duration=0))],
                        )
                        for i in range(len(frames))
                    ]
                )
            ],
        )
    return figure


def write_html(figure: go.Figure, path: str | Path) -> Path:
    """Write a self-contained HTML file (plotly.js embedded: opens offline)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.write_html(str(path), include_plotlyjs=True, full_html=True)
    return path
