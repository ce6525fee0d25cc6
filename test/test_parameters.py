"""Parameters: declared once (Settings), all in config/pose_lifter.yaml, validated with reasons."""

from __future__ import annotations

import yaml

from pose_lifter.ros.parameters import (
    FIELDS,
    Settings,
    descriptor,
    load_params_file,
    validate_value,
)
from ros_helpers import CONFIG


def _yaml_names(tree, prefix=""):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _yaml_names(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def test_every_parameter_is_in_the_yaml_with_its_default():
    params = yaml.safe_load(CONFIG.read_text())["/**"]["ros__parameters"]
    assert set(_yaml_names(params)) == set(FIELDS)
    assert load_params_file(CONFIG) == Settings()


def test_every_parameter_has_a_description_and_numbers_a_range():
    for name, spec in FIELDS.items():
        d = descriptor(name)
        assert d.description, name
        if isinstance(spec.default, (int, float)) and not isinstance(spec.default, bool):
            assert d.floating_point_range or d.integer_range, name


def test_invalid_values_have_reasons():
    assert validate_value("subject_height_m", 1.8) is None
    assert "outside" in validate_value("subject_height_m", 7.0)
    assert "one of" in validate_value("qos.input_reliability", "sometimes")
    assert "does not match" in validate_value("target_frame", "bad frame")
    assert "does not match" in validate_value("device", "tpu")
    assert "must be a int" in validate_value("min_joints", 3.5)
    assert "unknown" in validate_value("nope", 1)
