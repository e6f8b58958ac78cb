"""The message catalogues: one per language, the same keys and placeholders in each, every
key used by the code and every key the code asks for present; the criteria hold no phrase
of their own and branch on no language."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from matching import schema
from matching.criteria import ALL, LEGACY
from matching.messages import CATALOGUES, num, quoted_list, t
from matching.world import NACE_SECTIONS

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE_FILES = {ROOT / "matching" / "messages" / f"{lang}.py" for lang in CATALOGUES}
CODE = [p for p in (ROOT / "matching").rglob("*.py") if p not in CATALOGUE_FILES]
NB, EN = CATALOGUES["nb"], CATALOGUES["en"]


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _literals() -> tuple[set[str], set[str]]:
    """(string constants, constant parts of f-strings that end in a dot) in the code."""
    whole: set[str] = set()
    prefixes: set[str] = set()
    for path in CODE:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                prefixes.update(
                    v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str) and v.value.endswith(".")
                )
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                whole.add(node.value)
    return whole, prefixes


#: Keys whose languages quote different forms of one value (the code passes both).
WORDED_DIFFERENTLY = {
    "experience.in_field": ({"n", "occupation"}, {"years", "occupation"}),  # «3 års erfaring», "3 years of"
}


def test_both_catalogues_have_the_same_keys_and_placeholders():
    assert set(NB) == set(EN)
    for key in NB:
        assert NB[key] and EN[key], key
        if key in WORDED_DIFFERENTLY:
            assert (_fields(NB[key]), _fields(EN[key])) == WORDED_DIFFERENTLY[key], key
        else:
            assert _fields(NB[key]) == _fields(EN[key]), key


def test_every_key_is_used_and_every_level_label_exists():
    whole, prefixes = _literals()
    labels = {k for c in ALL + LEGACY for k in c.levels.label_keys()}  # older models still explain
    assert labels <= set(NB), sorted(labels - set(NB))
    unused = [k for k in NB if k not in whole and k not in labels and not any(k.startswith(p) for p in prefixes)]
    assert not unused, unused
    # the keys built from data: every code they are built from has its phrase
    for section in NACE_SECTIONS:
        assert f"industry.section.{section}" in NB
    for level in schema.EDUCATION_LEVELS:
        assert f"education.name.{level}" in NB
    for kind in schema.Kind:
        assert f"constraint.kind.{kind.value}" in NB
    # and no key family the code builds is unknown to the catalogue
    for prefix in prefixes:
        if re.fullmatch(r"[a-z_]+(\.[a-z_]+)*\.", prefix) and prefix.split(".")[0] in {k.split(".")[0] for k in NB}:
            assert any(k.startswith(prefix) for k in NB), prefix


def test_level_labels_follow_the_declaration():
    """One declaration: the level count, the label keys and (for thresholds) the binning."""
    for c in ALL + LEGACY:
        assert len(c.levels.label_keys()) == c.n_levels
        if c.levels.thresholds:
            assert c.n_levels == len(c.levels.thresholds) + 1
        assert len({c.level_label(i, "nb") for i in range(c.n_levels)}) == c.n_levels, c.name


def test_criteria_hold_no_phrase_and_branch_on_no_language():
    for path in [*(ROOT / "matching" / "criteria").glob("*.py"), ROOT / "matching" / "candidates.py"]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""lang\s*[!=]=\s*["']""", text), path.name
        assert not re.search(r"""["']\s*(nb|en)\s*["']\s*:""", text), path.name  # no {"nb": …, "en": …}


@pytest.mark.parametrize(("lang", "expected"), [("nb", "2,5"), ("en", "2.5")])
def test_numbers_and_lists_in_the_language(lang, expected):
    assert num(2.5, lang) == expected and num(3.0, lang) == "3"
    assert quoted_list(["a"], lang) == "a"
    assert quoted_list(["a", "b", "c"], lang) == {"nb": "«a», «b» og «c»", "en": '"a", "b" and "c"'}[lang]
    assert t("deadline.in_days", lang, days=3, date="2026-12-01").count("3") == 1
