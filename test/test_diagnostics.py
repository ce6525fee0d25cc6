"""The node's status level, drop rates and window values, without a graph.

The DDS side: the lifecycle tests.
"""

from __future__ import annotations

import math

from diagnostic_msgs.msg import DiagnosticStatus
from std_msgs.msg import Header

from pose_lifter.ros.diagnostics import (
    DROP_REASONS,
    RATE_UNITS,
    DropCounters,
    StatusMonitor,
    Thresholds,
    drop_rates,
    status_level,
)

LIMITS = Thresholds(warn_drop_rate=0.2, error_after_s=2.0)


def rates(**given: float) -> dict[str, float]:
    return {name: given.get(name, 0.0) for name in RATE_UNITS}


def test_levels():
    assert status_level(rates(), 0.1, True, True, LIMITS)[0] == DiagnosticStatus.OK
    at_limit = rates(message_drop_rate=0.2, person_drop_rate=0.2)
    assert status_level(at_limit, 0.1, True, True, LIMITS)[0] == DiagnosticStatus.OK
    assert status_level(rates(message_drop_rate=0.25), 0.1, True, True, LIMITS) == (
        DiagnosticStatus.WARN,
        "25% of the input messages dropped",
    )
    assert status_level(
        rates(person_drop_rate=0.5, camera_info_drop_rate=1.0), 0.1, True, True, LIMITS
    ) == (
        DiagnosticStatus.WARN,
        "50% of the persons dropped; 100% of the camera_info messages dropped",
    )
    assert status_level(rates(), 2.5, True, True, LIMITS) == (
        DiagnosticStatus.ERROR,
        "no input for 2.5 s",
    )
    # silence is no error while nobody listens (or the node is inactive)
    assert status_level(rates(), math.inf, False, True, LIMITS)[0] == DiagnosticStatus.OK
    assert status_level(rates(), 0.0, False, False, LIMITS) == (
        DiagnosticStatus.ERROR,
        "image detector stopped",
    )


def test_each_rate_divides_by_its_own_unit():
    counters = DropCounters()
    counters.messages_in, counters.persons_in = 10, 40
    counters.camera_infos_in, counters.depth_images_in = 5, 20
    counters.drop("nonfinite_keypoint")  # 1 of 40 persons
    counters.drop("tf_unavailable", 3)  # 3 of 10 messages
    counters.drop("bad_camera_info", 5)  # every camera_info refused
    counters.drop("bad_depth_image", 2)  # 2 of 20 depth images
    now, totals = drop_rates(counters, {})
    assert now == {
        "message_drop_rate": 0.3,
        "person_drop_rate": 0.025,
        "camera_info_drop_rate": 1.0,
        "depth_drop_rate": 0.1,
    }
    counters.messages_in += 10  # the next window: 10 messages, no new drop
    assert drop_rates(counters, totals)[0]["message_drop_rate"] == 0.0
    # every reason belongs to exactly one rate
    reasons = [r for _, unit_reasons, _ in RATE_UNITS.values() for r in unit_reasons]
    assert sorted(reasons) == sorted(DROP_REASONS)


def test_monitor_window_values_and_drop_rate():
    monitor, counters = StatusMonitor(now_s=10.0, thresholds=LIMITS), DropCounters()
    for age_s, latency_s in ((0.010, 0.002), (0.020, 0.004), (0.030, 0.006), (0.040, 0.008)):
        monitor.input_received(10.5, age_s)
        monitor.processed(latency_s, produced=True)
        counters.messages_in += 1
        counters.persons_in += 2
    counters.drop("nonfinite_keypoint", 2)  # 2 of 8 persons, no message lost
    status = monitor.report(Header(), "n", counters, {"model": "m"}, now_s=12.0).status[0]
    values = {kv.key: kv.value for kv in status.values}
    assert status.level == DiagnosticStatus.WARN
    assert status.message == "25% of the persons dropped"
    assert values["input_rate_hz"] == "2.0" and values["output_rate_hz"] == "2.0"  # 4 in 2 s
    assert values["latency_ms_p50"] == "5.00" and values["stamp_age_ms_p50"] == "25.00"
    assert values["person_drop_rate"] == "0.250" and values["message_drop_rate"] == "0.000"
    assert values["dropped.nonfinite_keypoint"] == "2"
    assert values["model"] == "m" and values["messages_in"] == "4"
    # the next window starts empty: no new input, no new drop; silent 1.9 s, then 2.5 s
    status = monitor.report(Header(), "n", counters, {}, now_s=12.4, expecting_input=True).status[
        0
    ]
    values = {kv.key: kv.value for kv in status.values}
    assert status.level == DiagnosticStatus.OK and values["input_rate_hz"] == "0.0"
    assert values["latency_ms_p50"] == "nan" and values["person_drop_rate"] == "0.000"
    status = monitor.report(Header(), "n", counters, {}, now_s=13.0, expecting_input=True).status[
        0
    ]
    assert (status.level, status.message) == (DiagnosticStatus.ERROR, "no input for 2.5 s")
