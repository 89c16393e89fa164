"""State encoding and the packaged skill vocabulary."""

from __future__ import annotations

import numpy as np
import pytest

from vacrec.agent.encoding import encode_state, encode_states, scale_age, state_size
from vacrec.agent.skills import PACKAGED_SKILLS, skill_vocabulary


def test_age_is_scaled_linearly_over_14_to_100_and_clipped():
    assert scale_age([14, 57, 100]).tolist() == pytest.approx([0.0, 0.5, 1.0])
    assert scale_age([5, 130]).tolist() == [0.0, 1.0]


def test_states_are_age_then_one_hot_skill():
    states = encode_states(np.array([14, 100, 57]), np.array([2, 0, 2]), n_skills=4)
    assert states.shape == (3, state_size(4)) == (3, 5)
    assert states.dtype == np.float32
    expected = np.array([[0.0, 0, 0, 1, 0], [1.0, 1, 0, 0, 0], [0.5, 0, 0, 1, 0]], dtype=np.float32)
    np.testing.assert_allclose(states, expected)
    np.testing.assert_allclose(encode_state(57, 2, 4), expected[2])


def test_skill_index_out_of_range_is_refused():
    with pytest.raises(ValueError, match="skill index"):
        encode_states(np.array([30]), np.array([4]), n_skills=4)
    with pytest.raises(ValueError, match="equal length"):
        encode_states(np.array([30, 31]), np.array([1]), n_skills=4)


def test_vocabulary_has_the_original_skills_first_and_appends_extras():
    vocab = skill_vocabulary()
    assert vocab[:2] == ("акварель", "геймдев")
    assert len(vocab) >= 14
    for skill in ("иллюстрация", "3D-моделирование", "UI/UX-дизайн", "татуировка", "моушн-дизайн"):
        assert skill in vocab
    extended = skill_vocabulary(["  витраж ", "АКВАРЕЛЬ", "", "витраж"])
    assert extended[: len(PACKAGED_SKILLS)] == PACKAGED_SKILLS
    assert extended[len(PACKAGED_SKILLS) :] == ("витраж",)
