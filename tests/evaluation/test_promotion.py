"""The promotion rule: a candidate goes live only when it is clearly better than the champion."""

from __future__ import annotations

import pytest

from vacrec.evaluation.ope import Estimate
from vacrec.evaluation.promotion import PROMOTE_MODES, RULE, decide_promotion
from vacrec.evaluation.trust import RewardDrift

BETTER = Estimate(value=0.2, low=0.05, high=0.35, n=400)
UNCLEAR = Estimate(value=0.1, low=-0.02, high=0.22, n=400)
AT_ZERO = Estimate(value=0.1, low=0.0, high=0.2, n=400)
WORSE = Estimate(value=-0.3, low=-0.45, high=-0.15, n=400)


@pytest.mark.parametrize("difference", [BETTER, UNCLEAR, WORSE, None])
def test_always_and_never_override_the_evaluation(difference: Estimate | None):
    assert decide_promotion("always", "live model 3", difference).promote is True
    assert decide_promotion("never", "live model 3", difference).promote is False
    assert decide_promotion("always", "x", difference).reason == "promote=always"
    assert decide_promotion("never", "x", difference).reason == "promote=never"


def test_auto_promotes_when_the_lower_bound_is_above_zero():
    decision = decide_promotion("auto", "content prior", BETTER)

    assert decision.promote is True
    assert "content prior" in decision.reason
    assert "+0.200" in decision.reason and "+0.050" in decision.reason
    assert "is above 0" in decision.reason


@pytest.mark.parametrize("difference", [UNCLEAR, AT_ZERO, WORSE])
def test_auto_does_not_promote_when_the_lower_bound_is_not_above_zero(difference: Estimate):
    decision = decide_promotion("auto", "live model 3", difference)

    assert decision.promote is False
    assert "live model 3" in decision.reason
    assert "not clearly above 0" in decision.reason


def test_auto_does_not_promote_what_could_not_be_evaluated():
    decision = decide_promotion("auto", "content prior", None)

    assert decision.promote is False
    assert "content prior" in decision.reason and "propensities" in decision.reason


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="promote mode"):
        decide_promotion("sometimes", "content prior", BETTER)  # type: ignore[arg-type]


def test_the_modes_and_the_rule_are_documented():
    assert PROMOTE_MODES == ("auto", "always", "never")
    assert "lower bound" in RULE and "content prior" in RULE


def _drift(distance: float, p_value: float) -> RewardDrift:
    return RewardDrift(distance=distance, p_value=p_value, recent=400, past=1200)


def test_a_better_candidate_is_held_when_recent_rewards_depart_sharply():
    decision = decide_promotion(
        "auto", "content prior", BETTER, drift=_drift(0.8, 1e-40), drift_threshold=0.2
    )

    assert decision.promote is False and decision.held is True
    assert "held for an operator" in decision.reason and "0.80" in decision.reason
    assert "vacrec model promote" in decision.reason


@pytest.mark.parametrize("drift", [_drift(0.1, 1e-40), _drift(0.8, 0.2), None])
def test_ordinary_change_or_too_little_data_does_not_hold(drift: RewardDrift | None):
    decision = decide_promotion("auto", "content prior", BETTER, drift=drift, drift_threshold=0.2)
    assert decision.promote is True and decision.held is False


def test_an_operator_still_decides_under_drift():
    drift = _drift(0.9, 1e-40)
    assert decide_promotion("always", "x", BETTER, drift=drift, drift_threshold=0.2).promote
    held = decide_promotion("auto", "x", WORSE, drift=drift, drift_threshold=0.2)
    assert held.promote is False and held.held is False  # not better: nothing to hold


@pytest.mark.parametrize("mode", ["auto", "always"])
def test_a_simulated_trained_model_needs_the_operators_flag_in_any_mode(mode: str):
    refused = decide_promotion(mode, "content prior", BETTER, simulated=True)  # type: ignore[arg-type]
    assert refused.promote is False and refused.held is False
    assert "trained with simulated events" in refused.reason
    assert "--allow-simulated" in refused.reason
    allowed = decide_promotion(
        mode,  # type: ignore[arg-type]
        "content prior",
        BETTER,
        simulated=True,
        allow_simulated=True,
        held_out=80,
        min_held_out=50,
    )
    assert allowed.promote is True


@pytest.mark.parametrize(("held_out", "promoted"), [(2, False), (49, False), (50, True)])
def test_auto_needs_the_minimum_of_held_out_events(held_out: int, promoted: bool):
    decision = decide_promotion("auto", "content prior", BETTER, held_out=held_out, min_held_out=50)
    assert decision.promote is promoted
    if not promoted:
        assert f"compared on {held_out} held-out events, fewer than the 50" in decision.reason
        assert "VACREC_PROMOTION_MIN_HELD_OUT" in decision.reason
    # an operator's explicit "always" is not an estimate and needs no minimum
    forced = decide_promotion("always", "x", None, held_out=held_out, min_held_out=50)
    assert forced.promote is True
