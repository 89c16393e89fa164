"""Model metadata: what cannot be stored as JSON is normalised when it is built."""

from __future__ import annotations

import json

from vacrec.agent.model_meta import Estimate, ModelMeta


def test_an_undefined_estimate_is_stored_as_none_not_nan() -> None:
    nan = float("nan")
    meta = ModelMeta.model_validate(
        {"ope": {"candidate": {"snips": {"value": nan, "low": nan, "high": 0.5, "n": 40}}}}
    )
    snips = meta.ope["candidate"]["snips"]
    assert snips == Estimate(value=None, low=None, high=0.5, n=40)
    # Strict JSON, as PostgreSQL's json type demands: NaN would be refused there.
    text = json.dumps(meta.model_dump(mode="json"), allow_nan=False)
    assert ModelMeta.parse(json.loads(text)) == meta
