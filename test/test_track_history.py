"""Each track's recent 2D frames: newest first, aged by stamps, bounded, per track."""

from __future__ import annotations

import numpy as np

from pose_lifter.runtime.track_history import TrackHistory


def frame(value: float) -> tuple[np.ndarray, np.ndarray]:
    return np.full((1, 15, 2), value), np.ones((1, 15), bool)


def test_past_frames_come_newest_first_with_their_ages_and_only_as_many_as_kept():
    history = TrackHistory(frames=3, max_age_s=10.0)
    for t in range(5):
        history.add(["a"], *frame(t), stamp_s=0.1 * t)
    past = history.past(["a"], stamp_s=0.5)
    np.testing.assert_allclose(past.keypoints_px[0, :, 0, 0], [4.0, 3.0, 2.0])
    np.testing.assert_allclose(past.age_s[0], [0.1, 0.2, 0.3])
    assert past.present.all()


def test_a_new_or_unknown_track_has_no_past():
    history = TrackHistory(frames=4)
    history.add(["a"], *frame(1.0), stamp_s=1.0)
    past = history.past(["b", "a"], stamp_s=1.1)
    assert not past.present[0].any() and (past.age_s[0] == 0).all()
    assert past.present[1, 0].all() and not past.present[1, 1:].any()


def test_frames_older_than_the_age_limit_are_not_offered():
    history = TrackHistory(frames=4, max_age_s=0.25)
    for stamp in (0.0, 0.1, 0.2, 0.3):
        history.add(["a"], *frame(stamp), stamp_s=stamp)
    past = history.past(["a"], stamp_s=0.4)
    np.testing.assert_array_equal(past.present[0].all(axis=1), [True, True, False, False])
    np.testing.assert_allclose(past.age_s[0], [0.1, 0.2, 0.0, 0.0])


def test_time_going_back_clears_the_track_and_ended_tracks_are_forgotten():
    history = TrackHistory(frames=4)
    for stamp in (1.0, 1.1, 1.2):
        history.add(["a", "b"], *(np.repeat(part, 2, axis=0) for part in frame(stamp)), stamp)
    history.add(["a"], *frame(9.0), stamp_s=0.5)  # a bag played again from its start
    past = history.past(["a"], stamp_s=0.6)
    assert past.present[0, 0].all() and not past.present[0, 1:].any()
    np.testing.assert_allclose(past.keypoints_px[0, 0], 9.0)
    history.forget({"a"})
    assert not history.past(["b"], stamp_s=1.3).present.any()


def test_no_frames_kept_for_a_single_frame_lifter():
    history = TrackHistory(frames=0)
    history.add(["a"], *frame(1.0), stamp_s=1.0)
    assert history.past(["a"], stamp_s=2.0).keypoints_px.shape == (1, 0, 15, 2)
