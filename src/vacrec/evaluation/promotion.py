"""When does a trained model go live? One pure function, so the rule can be read and tested.

The champion is whatever serves now: the live model, or the content prior when
there is none (or the live one cannot be loaded). A candidate replaces it only
when off-policy evaluation on the logged events says it is better: the 95%
lower bound of the paired-bootstrap difference DR(candidate) − DR(champion) is
above zero. Nothing skips that comparison; an operator can still force a
promotion (``always``) or forbid one (``never``).

A candidate that wins while the rewards logged since the last model depart
sharply from those before (``evaluation.trust.reward_drift``) is registered
but *held*: a flood of coordinated ratings looks exactly like that, and its
own rows would vouch for it. An operator promotes it by hand once satisfied.

Two more guards keep learning from hurting real seekers. A model trained with
simulated events learned the simulator's seekers, not real ones: it goes live
only when the operator says so explicitly (``--allow-simulated``), whatever the
mode. And ``auto`` compares the candidate only on a stated minimum of held-out
events: on a handful, an interval says nothing (versions were once promoted
after being compared on two).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vacrec.agent.model_meta import Estimate
from vacrec.evaluation.trust import RewardDrift


class PromoteMode(StrEnum):
    """How a trained candidate may go live: by the rule, always, or never (the operator's
    choice, `vacrec train --promote`)."""

    auto = "auto"
    always = "always"
    never = "never"


PROMOTE_MODES: tuple[PromoteMode, ...] = tuple(PromoteMode)
RULE = (
    "auto: promote when at least the minimum of held-out events compare them and the "
    "paired-bootstrap 95% lower bound of DR(candidate greedy) − "
    "DR(champion greedy) is above 0 and the rewards since the last model do not depart "
    "sharply from those before (else held for an operator); the champion is the live model, "
    "or the content prior when none can serve; a model trained with simulated events is "
    "promoted (by any mode) only with --allow-simulated"
)
ALLOW_SIMULATED_FLAG = "--allow-simulated"
SIMULATED_REFUSAL = (
    "not promoted: trained with simulated events, which say how the simulator's seekers "
    "rate, not how real ones do; promote it onto real traffic only on purpose, with "
    f"`vacrec model promote VERSION {ALLOW_SIMULATED_FLAG}`"
)


@dataclass(frozen=True)
class PromotionDecision:
    """The rule's answer for one candidate; the registry keeps it, with what it was measured
    against, as :class:`~vacrec.agent.model_meta.PromotionRecord`."""

    promote: bool
    reason: str
    held: bool = False  # better by the estimate, but waiting for an operator


def decide_promotion(
    mode: PromoteMode,
    champion: str,
    difference: Estimate | None,
    drift: RewardDrift | None = None,
    drift_threshold: float = 1.0,
    *,
    simulated: bool = False,
    allow_simulated: bool = False,
    held_out: int | None = None,
    min_held_out: int = 0,
) -> PromotionDecision:
    """Decide on a candidate given DR(candidate) − DR(champion) (None: could not evaluate),
    how far recent rewards moved (None: too few rows to tell), whether it was trained with
    simulated events and how many held-out events compared it (None: not counted)."""
    if mode not in PROMOTE_MODES:
        raise ValueError(f"promote mode must be one of {PROMOTE_MODES}, got {mode!r}")
    if mode == "never":
        return PromotionDecision(False, "promote=never")
    if simulated and not allow_simulated:
        return PromotionDecision(False, SIMULATED_REFUSAL)
    if mode == "always":
        return PromotionDecision(True, "promote=always")
    if held_out is not None and held_out < min_held_out:
        return PromotionDecision(
            False,
            f"not promoted: compared on {held_out} held-out events, fewer than the "
            f"{min_held_out} a promotion needs (VACREC_PROMOTION_MIN_HELD_OUT); "
            "collect more ratings",
        )
    if difference is None:
        return PromotionDecision(
            False, f"no logged propensities to compare the candidate with the {champion}"
        )
    better = difference.low is not None and difference.low > 0
    estimate = (
        f"DR difference vs the {champion} {_signed(difference.value)} "
        f"[95% CI {_signed(difference.low)}, {_signed(difference.high)}] "
        + ("is above 0" if better else "is not clearly above 0")
    )
    if better and drift is not None and drift.departs(drift_threshold):
        return PromotionDecision(
            False,
            f"held for an operator: {drift.describe()}, above {drift_threshold:g}; {estimate}; "
            "promote it with `vacrec model promote VERSION` once the traffic is trusted",
            held=True,
        )
    return PromotionDecision(better, estimate)


def _signed(number: float | None) -> str:
    return "undefined" if number is None else f"{number:+.3f}"
