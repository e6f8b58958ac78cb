"""Title normalisation as the rest of the system meets it: ranked API, CLI, typeahead endpoint,
and the shipped classifier artifact."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.taxonomy import occupations, title_model
from matching.taxonomy._prefix import PrefixIndex
from matching.taxonomy.titles import (
    MIN_SCORE,
    TitleNormaliser,
    normalise_titles,
    reference_labels,
    suggest_titles,
    top_titles,
)

ROOT = Path(__file__).resolve().parent.parent


# -- ranked API ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("title", "code"),
    [
        ("lagermedarbeider", "4321"),
        ("truckfører", "8344"),
        ("butikkmedarbeider (dagligvare)", "5223"),
        ("Warehouse Assistant", "9333"),  # ESCO files "warehouse worker" under ISCO 9333
        ("LAGERMEDARBEIDER", "4321"),
        ("lagermedarbieder", "4321"),
        ("Truckfører (lager)", "8344"),
    ],
)
def test_top_ranks_the_known_code_first(title, code):
    ranked = top_titles([title], 5)[0]
    assert len(ranked) == 5
    assert ranked[0][0] == code, ranked
    assert ranked[0][1] >= MIN_SCORE / 100


def test_top_agrees_with_normalise_and_is_well_formed():
    titles = [
        "Lagermedarbeider",
        "sykepleier",
        "kjhgfdsa",
        "",
        "lagerkontrollør",
        "IT-konsulent",
        "Senior Software Engineer (Java)",
        "Driftsleder (skiheis)",
    ]
    ranked = top_titles(titles, 4)
    best = normalise_titles(titles)
    assert len(ranked) == len(titles)
    for rows, m in zip(ranked, best):
        assert len(rows) == 4
        codes = [c for c, _ in rows]
        assert len(set(codes)) == 4 and all(occupations.is_valid_code(c) for c in codes)
        scores = [s for _, s in rows]
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert scores == sorted(scores, reverse=True)
        if m is not None:
            assert rows[0] == (m.code, round(m.confidence, 4))
        else:
            assert rows[0][1] < MIN_SCORE / 100


@pytest.mark.parametrize("title", ["xyzzy", "qwrtzpx", "kjhgfdsa", "zzzzzz", "æøåæøå", "asdf jklø"])
def test_gibberish_gets_low_confidence(title):
    ranked = top_titles([title], 3)[0]
    assert ranked[0][1] < MIN_SCORE / 100
    assert normalise_titles([title])[0] is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=30), min_size=1, max_size=6), st.integers(1, 8))
def test_top_shape_holds_for_any_text(titles, k):
    ranked = top_titles(titles, k)
    assert len(ranked) == len(titles)
    for rows in ranked:
        assert len(rows) == k
        assert all(occupations.is_valid_code(c) and 0.0 <= s <= 1.0 for c, s in rows)
        assert [s for _, s in rows] == sorted((s for _, s in rows), reverse=True)


def test_top_rejects_k_below_one():
    with pytest.raises(ValueError, match="k"):
        top_titles(["kokk"], 0)


# -- typeahead ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("truckf", "8344"),
        ("lagermed", "4321"),
        ("sykepl", "2223"),
        ("butikkmedarb", "5223"),
        ("warehouse", "9333"),
    ],
)
def test_prefix_typing_suggests_the_occupation(query, code):
    codes = [c for c, _ in suggest_titles(query, 10)]
    assert code in codes[:5], codes


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("sveisefagarb", "7212"),  # sveise|fagarbeider: welders
        ("fiskebutikkmedarb", "5223"),  # shop sales assistants
        ("vaskerimedarb", "8157"),  # laundry machine operators
        ("bensinstasjonsmedarb", "5245"),  # service station attendants
    ],
)
def test_a_half_typed_unseen_compound_is_completed_at_its_head(client, auth, query, code):
    """No label has a word starting with these prefixes: the last word is read as a known
    modifier plus a partly typed head ("sveise|fagarb" → "sveisefagarbeider") and completed."""
    norm = TitleNormaliser.default()
    assert norm._completer.complete(query, 5) == []  # no label word starts like this
    res = client.get("/v1/taxonomy/occupations", params={"q": query, "limit": 5}, headers=auth("adviser"))
    assert res.status_code == 200, res.text
    items = res.json()["items"]
    assert items[0]["code"] == code, items
    assert items[0]["score"] >= MIN_SCORE / 100


def test_the_completer_reads_a_modifier_and_a_partly_typed_head():
    from matching.taxonomy._prefix import WordCompleter

    words = ["lagermedarbeider", "medarbeider", "medarbeider", "medisin", "lager"]
    completer = WordCompleter.build(words, np.ones(len(words)), np.ones(len(words), dtype=bool), frozenset({"lager", "kantine"}))
    assert completer.complete("lagerm", 3) == [("lagermedarbeider", 1.0)]
    assert [w for w, _ in completer.compound("kantinemed", 3)] == ["kantinemedarbeider", "kantinemedisin"]
    assert completer.compound("kantinemedarbeider", 3) == [("kantinemedarbeider", 2.0)]
    assert completer.compound("xyzmed", 3) == []  # no known modifier


def test_gibberish_typed_gets_no_confident_suggestion():
    """Random letter strings get no suggestion scored as sure as an accepted title, except
    the odd one that happens to start like a real word ("dykke…"): at most 1 %."""
    import random
    import string

    rng = random.Random(7)
    letters = string.ascii_lowercase + "æøå"
    strings = ["".join(rng.choice(letters) for _ in range(rng.randint(4, 14))) for _ in range(500)]
    sure = [q for q in strings if any(s >= MIN_SCORE / 100 for _, s in suggest_titles(q, 5))]
    assert len(sure) <= 5, sure
    assert suggest_titles("kjhgfdsaqw", 5) == [] or max(s for _, s in suggest_titles("kjhgfdsaqw", 5)) < MIN_SCORE / 100


def test_suggestions_are_ranked_unique_and_limited():
    got = suggest_titles("lager", 7)
    assert 1 <= len(got) <= 7
    assert len({c for c, _ in got}) == len(got)
    assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
    assert suggest_titles("   ", 5) == []


# -- shipped artifact ----------------------------------------------------------------------------
def test_shipped_title_model_matches_the_reference_labels():
    """The card's fingerprint must be that of today's label table: a reference file changed
    without rerunning tools/build_title_model.py fails here, not silently at run time."""
    path = title_model.DEFAULT_PATH
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["training_sha256"] == title_model.frame_sha256(reference_labels())
    import hashlib

    from matching.taxonomy._files import reference_path

    for name, digest in card["sources"].items():  # the files it names are the shipped ones
        assert hashlib.sha256(reference_path(name).read_bytes()).hexdigest() == digest, name
    clf = title_model.load(path, expected_sha256=card["training_sha256"])
    assert clf is not None
    assert set(clf.codes_) <= set(occupations.unit_groups())
    assert len(clf.codes_) == card["n_codes"] and clf.coef_.nnz == card["n_weights"]
    norm = TitleNormaliser.default()
    assert norm.classifier is not None and norm.classifier.coef_.nnz == clf.coef_.nnz


def test_a_small_table_trains_its_own_classifier():
    import pandas as pd

    labels = pd.DataFrame(
        {
            "label": ["kokk", "kjøkkensjef", "sykepleier", "helsesykepleier", "lagerarbeider", "lagermedarbeider"],
            "code": ["5120", "5120", "2223", "2223", "4321", "4321"],
        }
    )
    norm = TitleNormaliser.from_frame(labels)
    assert norm.top("intensivsykepleier", 3)[0][0] == "2223"
    assert norm.top("lagerkontrollør", 3)[0][0] == "4321"


def test_loading_a_model_for_other_labels_is_refused(tmp_path):
    import pandas as pd

    labels = pd.DataFrame({"label": ["kokk", "sykepleier"], "code": ["5120", "2223"]})
    clf = title_model.train(labels)
    path = tmp_path / "m.joblib"
    title_model.save(clf, path, {"training_sha256": title_model.frame_sha256(labels)})
    assert title_model.load(path, expected_sha256=title_model.frame_sha256(labels)) is not None
    assert title_model.load(path, expected_sha256="0" * 64) is None
    assert title_model.load(tmp_path / "missing.joblib") is None


# -- CLI -------------------------------------------------------------------------------------------
def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "matching.cli", "titles", *args], cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=300
    )


def test_cli_titles_csv_contract(tmp_path):
    src = tmp_path / "titles.txt"
    src.write_text("lagermedarbeider\n\ntruckfører\nkjhgfdsa\nWarehouse Assistant, night shift\n", encoding="utf-8")
    res = _cli("--top", "3", str(src))
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert list(rows[0]) == ["title", "rank", "code", "score"]
    titles = ["lagermedarbeider", "truckfører", "kjhgfdsa", "Warehouse Assistant, night shift"]
    assert [r["title"] for r in rows] == [t for t in titles for _ in range(3)]  # blank line skipped
    assert [r["rank"] for r in rows] == ["1", "2", "3"] * 4
    assert all(len(r["code"]) == 4 and r["code"].isdigit() for r in rows)
    assert all(0.0 <= float(r["score"]) <= 1.0 for r in rows)
    by_title = {r["title"]: r for r in rows if r["rank"] == "1"}
    assert by_title["lagermedarbeider"]["code"] == "4321"
    assert by_title["truckfører"]["code"] == "8344"
    assert float(by_title["kjhgfdsa"]["score"]) < MIN_SCORE / 100


def test_cli_titles_reads_stdin_with_default_top():
    res = _cli("-", stdin="sykepleier\nkokk\n")
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert len(rows) == 10 and rows[0]["code"] == "2223" and rows[5]["code"] == "5120"


def test_cli_titles_errors(tmp_path):
    res = _cli(str(tmp_path / "nope.txt"))
    assert res.returncode == 2 and "no such file" in res.stderr
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("kjøkkenassistent\n".encode("latin-1"))
    res = _cli(str(bad))
    assert res.returncode == 2 and "UTF-8" in res.stderr
    res = _cli("--top", "0", "-", stdin="kokk\n")
    assert res.returncode != 0 and "--top" in res.stderr
    res = _cli(str(tmp_path))  # a directory (review finding: was a traceback, exit 1)
    assert res.returncode == 2 and "cannot read" in res.stderr and "Traceback" not in res.stderr


def test_cli_titles_one_title_per_line_even_with_unicode_line_separators():
    res = _cli("--top", "1", "-", stdin="kokk\u2028servitør\nsykepleier\r\n")
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [r["title"] for r in rows] == ["kokk\u2028servitør", "sykepleier"]


# -- HTTP ------------------------------------------------------------------------------------------
def test_occupations_endpoint(client, auth):
    for role in ("adviser", "liaison", "batch", "admin"):
        res = client.get("/v1/taxonomy/occupations", params={"q": "truckf", "limit": 5}, headers=auth(role))
        assert res.status_code == 200, res.text
        body = res.json()
        assert 1 <= len(body["items"]) <= 5
        first = body["items"][0]
        assert first == {"code": "8344", "name_nb": occupations.name("8344"), "score": first["score"]}
        assert 0 < first["score"] <= 1


def test_occupations_endpoint_needs_a_token_and_valid_input(client, auth):
    assert client.get("/v1/taxonomy/occupations", params={"q": "kokk"}).status_code == 401
    headers = auth("adviser")
    for params in (
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "x" * 201},
        {"q": "kokk", "limit": 0},
        {"q": "kokk", "limit": 51},
        {"q": "kokk", "limit": "ten"},
    ):
        res = client.get("/v1/taxonomy/occupations", params=params, headers=headers)
        assert res.status_code == 422, (params, res.text)
        field = "limit" if "limit" in params else "q"
        assert field in json.dumps(res.json()["detail"])


# ---------------------------------------------------------------------------- prefix index
_WORDS = st.text(alphabet="abcæøå", min_size=1, max_size=4)
_LABELS = st.lists(
    st.tuples(
        st.lists(_WORDS, min_size=1, max_size=3).map(" ".join),
        st.sampled_from(["1111", "2222", "3333"]),
        st.floats(0.1, 5, allow_nan=False),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(_LABELS, st.text(alphabet="abcæøå ", min_size=1, max_size=4))
def test_prefix_index_agrees_with_a_scan_of_every_label(rows, prefix):
    """Binary search over sorted labels and word-start suffixes finds exactly what a pass over
    every label finds: labels that start with the prefix (weight 1) or have a later word that
    does (weight 1/2, once per label)."""
    keys = {}
    for label, code, w in rows:
        keys[(label, code)] = keys.get((label, code), 0.0) + w
    index = PrefixIndex.build([k for k, _ in keys], [c for _, c in keys], np.array(list(keys.values())))
    expect: dict[str, float] = {}
    for (label, code), w in keys.items():
        f = 1.0 if label.startswith(prefix) else 0.5 if (" " + prefix) in label else 0.0
        if f:
            expect[code] = expect.get(code, 0.0) + f * w
    got = index.evidence(prefix)
    assert {c: round(e, 9) for c, e in got} == {c: round(e, 9) for c, e in expect.items()}
    assert [e for _, e in got] == sorted((e for _, e in got), reverse=True)
