"""The node's status level and window values, without a graph (the DDS side: lifecycle tests)."""

from __future__ import annotations

import math

from diagnostic_msgs.msg import DiagnosticStatus
from std_msgs.msg import Header

from pose_lifter.ros.diagnostics import DropCounters, StatusMonitor, Thresholds, status_level

LIMITS = Thresholds(warn_drop_rate=0.2, error_after_s=2.0)


def test_levels():
    assert status_level(0.0, 0.1, True, True, LIMITS)[0] == DiagnosticStatus.OK
    assert status_level(0.2, 0.1, True, True, LIMITS)[0] == DiagnosticStatus.OK  # at the limit
    assert status_level(0.25, 0.1, True, True, LIMITS) == (
        DiagnosticStatus.WARN,
        "25% of the inputs dropped",
    )
    assert status_level(0.0, 2.5, True, True, LIMITS) == (
        DiagnosticStatus.ERROR,
        "no input for 2.5 s",
    )
    # silence is no error while nobody listens (or the node is inactive)
    assert status_level(0.0, math.inf, False, True, LIMITS)[0] == DiagnosticStatus.OK
    assert status_level(0.0, 0.0, False, False, LIMITS) == (
        DiagnosticStatus.ERROR,
        "image detector stopped",
    )


def test_monitor_window_values_and_drop_rate():
    monitor, counters = StatusMonitor(now_s=10.0, thresholds=LIMITS), DropCounters()
    for age_s, latency_s in ((0.010, 0.002), (0.020, 0.004), (0.030, 0.006), (0.040, 0.008)):
        monitor.input_received(10.5, age_s)
        monitor.processed(latency_s, produced=True)
        counters.messages_in += 1
    counters.drop("nonfinite_keypoint")  # 1 of 4 inputs
    status = monitor.report(Header(), "n", counters, {"model": "m"}, now_s=12.0).status[0]
    values = {kv.key: kv.value for kv in status.values}
    assert status.level == DiagnosticStatus.WARN and status.message == "25% of the inputs dropped"
    assert values["input_rate_hz"] == "2.0" and values["output_rate_hz"] == "2.0"  # 4 in 2 s
    assert values["latency_ms_p50"] == "5.00" and values["stamp_age_ms_p50"] == "25.00"
    assert values["drop_rate"] == "0.250" and values["dropped.nonfinite_keypoint"] == "1"
    assert values["model"] == "m" and values["messages_in"] == "4"
    # the next window starts empty: no new input, no new drop; silent 1.9 s, then 2.5 s
    status = monitor.report(Header(), "n", counters, {}, now_s=12.4, expecting_input=True).status[
        0
    ]
    values = {kv.key: kv.value for kv in status.values}
    assert status.level == DiagnosticStatus.OK and values["input_rate_hz"] == "0.0"
    assert values["latency_ms_p50"] == "nan" and values["drop_rate"] == "0.000"
    status = monitor.report(Header(), "n", counters, {}, now_s=13.0, expecting_input=True).status[
        0
    ]
    assert (status.level, status.message) == (DiagnosticStatus.ERROR, "no input for 2.5 s")
