"""Counters of every dropped input, by reason, and the node's diagnostic_msgs status.

One status per node and report period (:class:`StatusMonitor`): input and output rates,
processing latency p50/p95, stamp age, four drop rates and the totals below; OK, WARN when a
drop rate is above ``diagnostics_warn_drop_rate``, ERROR when no input arrived for
``diagnostics_error_after_s`` while the node is active and subscribed, or the detector stopped.

Each drop rate divides drops by what they are drops of (:data:`RATE_UNITS`): message drops by
input messages, person drops by persons received, refused CameraInfo messages by CameraInfo
messages, undecodable depth images by depth images; so one person lost of four in a message
reads "25% of the persons dropped", not as a quarter of the messages.

Reasons and counters: :mod:`pose_lifter.runtime.counters`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from std_msgs.msg import Header

from pose_lifter.runtime.counters import (  # noqa: F401 - re-exported for the node and tests
    DEPTH_COUNTERS,
    DROP_REASONS,
    PERSON_REASONS,
    RATE_UNITS,
    SIDE_INPUT_REASONS,
    DropCounters,
)

#: What to do when the middleware loses a camera's samples (README troubleshooting says the same).
LOST_IMAGES_HINT = (
    "large raw images over best-effort DDS lose fragments in the middleware; use "
    "image_transport:=compressed, a reliable camera QoS (the node follows it: "
    "qos.image_reliability auto), or the middleware's large-data settings (Fast DDS: "
    "FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA on both sides)"
)


@dataclass(frozen=True)
class CameraLink:
    """What the graph says about an image subscription (image or depth input).

    Attributes:
        topic: the resolved topic. publishers: publishers matched in the graph now.
        samples_lost: samples the middleware reported lost since start (message_lost events).
        reliability: the subscription's (``reliable``/``best_effort``).
    """

    topic: str
    publishers: int
    samples_lost: int
    reliability: str


def camera_link_problem(
    link: CameraLink,
    new_lost: int,
    new_received: int,
    silent_s: float,
    expecting_input: bool,
    thresholds: "Thresholds",
) -> tuple[int, str] | None:
    """Level and message when a camera publishes but its images do not arrive, else None.

    ERROR: a publisher is matched, nothing arrived for ``error_after_s`` (instead of the
    misleading "no input"); WARN: the middleware lost more than ``warn_drop_rate`` of the
    samples of this report period (``new_lost`` of ``new_lost + new_received``).
    """
    if expecting_input and link.publishers > 0 and silent_s > thresholds.error_after_s:
        return DiagnosticStatus.ERROR, (
            f"{link.topic}: {link.publishers} publisher(s) matched but no image arrived for "
            f"{silent_s:.1f} s ({new_lost} samples lost in the middleware, {link.reliability} "
            f"subscription): {LOST_IMAGES_HINT}"
        )
    sent = new_lost + new_received
    if new_lost and new_lost > thresholds.warn_drop_rate * sent:
        return DiagnosticStatus.WARN, (
            f"{link.topic}: {new_lost} of {sent} images lost in the middleware "
            f"({link.reliability} subscription): {LOST_IMAGES_HINT}"
        )
    return None


@dataclass(frozen=True)
class Thresholds:
    """When the status turns WARN or ERROR (node parameters ``diagnostics_*``)."""

    warn_drop_rate: float = 0.1
    error_after_s: float = 5.0


@dataclass
class Window:
    """What happened since the previous report: timings per processed input, in seconds."""

    latency_s: list[float] = field(default_factory=list)
    stamp_age_s: list[float] = field(default_factory=list)
    outputs: int = 0


def status_level(
    drop_rates: dict[str, float],
    silent_s: float,
    expecting_input: bool,
    detector_alive: bool,
    thresholds: Thresholds,
) -> tuple[int, str]:
    """Level and message of the node's status.

    Args:
        drop_rates: each rate of :data:`RATE_UNITS` since the previous report (0 when nothing
            of its unit arrived).
        silent_s: seconds since the last input (inf when none arrived yet).
        expecting_input: active and some output is subscribed (an idle node is not an error).
        detector_alive: the image detector's worker thread runs (True without image input).
    """
    if not detector_alive:
        return DiagnosticStatus.ERROR, "image detector stopped"
    if expecting_input and silent_s > thresholds.error_after_s:
        return DiagnosticStatus.ERROR, f"no input for {silent_s:.1f} s"
    high = [
        f"{100 * rate:.0f}% of the {RATE_UNITS[name][0]} dropped"
        for name, rate in drop_rates.items()
        if rate > thresholds.warn_drop_rate
    ]
    if high:
        return DiagnosticStatus.WARN, "; ".join(high)
    return DiagnosticStatus.OK, "ok"


def drop_rates(
    counters: DropCounters, reported: dict[str, tuple[int, int]]
) -> tuple[dict[str, float], dict[str, tuple[int, int]]]:
    """Return each rate of :data:`RATE_UNITS` since the previous report, and the totals now.

    ``reported``: the totals ``name -> (drops, units)`` at the previous report (empty at first).
    """
    rates, totals = {}, {}
    for name, (_, reasons, unit) in RATE_UNITS.items():
        drops = sum(counters.dropped[reason] for reason in reasons)
        units = getattr(counters, unit)
        before_drops, before_units = reported.get(name, (0, 0))
        new_drops, new_units = drops - before_drops, units - before_units
        rates[name] = min(1.0, new_drops / new_units) if new_units > 0 else 0.0
        totals[name] = (drops, units)
    return rates, totals


class StatusMonitor:
    """Rates, latencies and drop rate between two reports; turns them into a DiagnosticStatus.

    ``input_received(now_s, stamp_age_s)`` per input, ``processed(latency_s, produced)`` per
    processed input; :meth:`report` closes the window. Times in seconds (the caller's clock).
    """

    def __init__(self, now_s: float, thresholds: Thresholds = Thresholds()):
        self.thresholds = thresholds
        self._window = Window()
        self._window_start = now_s
        self._last_input_s = -math.inf
        self._reported: dict[str, tuple[int, int]] = {}
        self._reported_links: dict[str, tuple[int, int]] = {}  # topic -> (lost, received)

    def input_received(self, now_s: float, stamp_age_s: float) -> None:
        self._last_input_s = now_s
        self._window.stamp_age_s.append(stamp_age_s)

    def processed(self, latency_s: float, produced: bool) -> None:
        self._window.latency_s.append(latency_s)
        self._window.outputs += produced

    def report(
        self,
        header: Header,
        name: str,
        counters: DropCounters,
        details: dict[str, str],
        now_s: float,
        expecting_input: bool = False,
        detector_alive: bool = True,
        links: dict[str, CameraLink] | None = None,
    ) -> DiagnosticArray:
        """Build one DiagnosticStatus for the window since the previous report; start a new one.

        Values: ``input_rate_hz``, ``output_rate_hz``, ``latency_ms_p50``/``p95`` (receipt to
        outputs built), ``stamp_age_ms_p50`` (receipt time - header stamp), the rates of
        :data:`RATE_UNITS`, the totals of :func:`counter_values`, per camera link
        ``<kind>_publishers`` and ``<kind>_samples_lost``, and ``details``. Level:
        :func:`status_level`, raised by :func:`camera_link_problem` of each link (``links``:
        ``{"image": ..., "depth": ...}``; received images counted by ``images_in`` and
        ``depth_images_in``).
        """
        window, elapsed = self._window, max(now_s - self._window_start, 1e-9)
        rates, self._reported = drop_rates(counters, self._reported)
        silent_s = now_s - self._last_input_s
        level, message = status_level(
            rates, silent_s, expecting_input, detector_alive, self.thresholds
        )
        link_values = []
        for kind, link in (links or {}).items():
            received = counters.images_in if kind == "image" else counters.depth_images_in
            lost_before, received_before = self._reported_links.get(kind, (0, 0))
            self._reported_links[kind] = (link.samples_lost, received)
            problem = camera_link_problem(
                link,
                link.samples_lost - lost_before,
                received - received_before,
                silent_s if kind == "image" else 0.0,
                expecting_input,
                self.thresholds,
            )
            if problem is not None:
                level, message = _worse(level, message, *problem)
            link_values += [
                KeyValue(key=f"{kind}_publishers", value=str(link.publishers)),
                KeyValue(key=f"{kind}_samples_lost", value=str(link.samples_lost)),
            ]

        values = [
            KeyValue(key="input_rate_hz", value=f"{len(window.stamp_age_s) / elapsed:.1f}"),
            KeyValue(key="output_rate_hz", value=f"{window.outputs / elapsed:.1f}"),
            KeyValue(key="latency_ms_p50", value=_percentile_ms(window.latency_s, 50)),
            KeyValue(key="latency_ms_p95", value=_percentile_ms(window.latency_s, 95)),
            KeyValue(key="stamp_age_ms_p50", value=_percentile_ms(window.stamp_age_s, 50)),
        ] + [KeyValue(key=name, value=f"{rate:.3f}") for name, rate in rates.items()]
        values += link_values
        self._window, self._window_start = Window(), now_s
        status = DiagnosticStatus(
            level=level,
            name=name,
            message=message,
            hardware_id="pose_lifter",
            values=values + counter_values(counters) + _details(details),
        )
        return DiagnosticArray(header=header, status=[status])


def _worse(level: int, message: str, other_level: int, other: str) -> tuple[int, str]:
    """Return the status with ``other`` merged in.

    The higher level wins; at the same level a camera's explanation replaces the bare "no
    input" and joins any other message.
    """
    if other_level > level or (other_level == level and message.startswith("no input")):
        return other_level, other
    if other_level == level:
        return level, f"{message}; {other}"
    return level, message


def _percentile_ms(values_s: list[float], q: float) -> str:
    return f"{1e3 * float(np.percentile(values_s, q)):.2f}" if values_s else "nan"


def _details(details: dict[str, str]) -> list[KeyValue]:
    return [KeyValue(key=key, value=value) for key, value in details.items()]


def counter_values(counters: DropCounters) -> list[KeyValue]:
    """Return the totals since start as KeyValues.

    ``messages_in`` (2D skeleton messages lifted: keypoints_2d messages or processed images),
    ``images_in`` (image messages received), ``persons_in``, ``persons_out``,
    ``camera_infos_in``, ``depth_images_in`` (side inputs received, refused ones included),
    ``skipped_unsubscribed``, ``camera_info_mismatch`` (inputs placed without the CameraInfo
    because its frame_id or size differs from theirs), ``distortion_kept`` (present joints whose
    distortion the CameraInfo's lens model could not undo: used as measured), the depth counts
    (``depth_unpaired``: inputs with no depth image within ``depth.slop_s``;
    ``depth_mismatch``: paired depth of another frame or size; ``depth_fallback``: persons
    placed from the stature prior because too few joints had consistent depth;
    ``persons_depth``: persons placed from depth) and
    ``dropped.<reason>``.
    """
    values = [
        KeyValue(key="messages_in", value=str(counters.messages_in)),
        KeyValue(key="images_in", value=str(counters.images_in)),
        KeyValue(key="persons_in", value=str(counters.persons_in)),
        KeyValue(key="persons_out", value=str(counters.persons_out)),
        KeyValue(key="camera_infos_in", value=str(counters.camera_infos_in)),
        KeyValue(key="depth_images_in", value=str(counters.depth_images_in)),
        KeyValue(key="skipped_unsubscribed", value=str(counters.skipped_unsubscribed)),
        KeyValue(key="camera_info_mismatch", value=str(counters.camera_info_mismatch)),
        KeyValue(key="distortion_kept", value=str(counters.distortion_kept)),
    ]
    values += [KeyValue(key=key, value=str(getattr(counters, key))) for key in DEPTH_COUNTERS]
    return values + [
        KeyValue(key=f"dropped.{reason}", value=str(count))
        for reason, count in counters.dropped.items()
    ]
