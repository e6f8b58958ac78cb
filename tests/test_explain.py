"""The typed explanation: its plain JSON form (what the API's pair detail and the docs show)
and the additive invariant, on the fixture world."""

from __future__ import annotations

import json
import re

import pytest

from matching import runtime
from matching.criteria import ALL
from matching.explain import Explanation, feature_rows


def test_explanation_to_json_is_plain_and_adds_up(world):
    engine = runtime.match_engine(world)
    for p in range(0, len(engine.world.participants), 7):
        pair = engine.explain_pair(p, p % len(engine.world.openings))
        e = pair["explanation"]
        assert isinstance(e, Explanation)
        plain = json.loads(json.dumps(e.to_json()))
        assert set(plain) == {"intercept", "features"} and list(plain["features"]) == [c.name for c in ALL]
        for name, f in plain["features"].items():
            assert set(f) == {"level", "contribution", "values"}
            assert f["level"] == e.features[name].level and f["values"] == dict(e.features[name].values)
        assert e.raw_score == pytest.approx(pair["raw_score"], abs=1e-9)
        # what a person reads: plain JSON, codes as strings, no masks, ids or day numbers
        shown = [r["values"] for r in feature_rows(e, "en")]
        assert json.loads(json.dumps(shown)) == shown
        text = json.dumps(shown)
        assert "esco:" not in text and "_mask" not in text and not re.search(r"\b7\d{5}\b|\d\.\d{5}", text)
        for values in shown:
            for key, value in values.items():
                assert not key.endswith("_code") or value is None or re.fullmatch(r"\d{4}", value), (key, value)
