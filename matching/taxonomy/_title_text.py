"""Canonical text for occupation titles: the one place that decides when two spellings are equal.

Both the label index and every query pass through :func:`exact_key` (exact and fuzzy stages)
and :func:`surface` (n-gram stage), so the rules only have to be *consistent*, not
linguistically right: a crude suffix-stripper that turns "sykepleiere",
"sykepleieren" and "sykepleier" into the same stem is enough, because the index is stemmed the
same way. Rules are deliberately few; what they miss (typos, unseen compounds) is left to the
fuzzy and character n-gram stages in :mod:`matching.taxonomy.titles`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Function words and catalogue filler ("mv." = "med videre", "andre" = "other …") that never
# decide the occupation. English ones too, because ESCO labels share the index.
STOPWORDS = frozenset(
    "og i på ved for av med til fra innen under uten samt eller mv mm m v etc "
    "andre annen annet øvrig øvrige ellers ekskl inkl unntatt "
    "and of the in for a an at on to or with other "
    # How the job is offered, not what it is: "Butikkmedarbeider (arbeidstrening)".
    "arbeidstrening praksisplass deltid heltid vikariat".split()
)

# Longest first. Plural, definite and (old) feminine endings; "s" and "es" are for English.
_SUFFIXES = ("erne", "eren", "ene", "ere", "er", "en", "et", "es", "e", "s")
_MIN_STEM = 3

_PAREN = re.compile(r"\([^()]*\)?")
_NON_WORD = re.compile(r"[^0-9a-zæøåäöüéèáàóôç]+")
_ELIDED = re.compile(r"(?<=[0-9a-zæøå])-\s*(?=(og|eller|and|or|,)\b)")
_TRIPLE = re.compile(r"([bdfgklmnprst])\1\1")
_HYPHEN = re.compile(r"(?<=[0-9a-zæøå])-(?=[0-9a-zæøå])")


def fold(text: str) -> str:
    """Unicode-normalise, lowercase and map look-alike letters onto the Norwegian ones.

    Users with Swedish or German keyboards type "ö", "ä" for ø, æ; folding them keeps those
    titles on the exact path instead of sending them to fuzzy matching.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    return text.replace("ö", "ø").replace("ä", "æ").replace("&", " og ")


def stem(token: str) -> str:
    """Strip one plural/definite/gender ending, twice at most, keeping a stem of >= 3 letters.

    Twice, so that "managers" and "manager" (and "lærere"/"lærer") end up equal; feminine
    "-erske"/"-inne" and irregular "-menn" are mapped first.
    """
    if token.isdigit():
        return token
    if token.endswith("erske"):
        token = token[:-3]
    elif token.endswith("erinne") or token.endswith("ertinne"):
        token = token[:-4]
    elif token.endswith("menn"):
        token = token[:-4] + "mann"
    elif token.endswith("kvinne"):
        token = token[:-6] + "mann"
    for _ in range(2):
        for suffix in _SUFFIXES:
            if token.endswith(suffix) and len(token) - len(suffix) >= _MIN_STEM:
                token = token[: -len(suffix)]
                break
        else:
            break
    return token


@lru_cache(maxsize=65536)
def _stem_cached(token: str) -> str:
    return stem(token)


def tokens(text: str, keep_parentheses: bool = True) -> list[str]:
    """Stemmed content words of a title, in their original order.

    Hyphens inside a word join it ("butikk-kasserer" = "butikkasserer", Norwegian drops the
    third identical consonant); a hyphen before "og" marks an elided compound part
    ("kopper- og blikkenslager") and is dropped.
    """
    text = fold(text)
    if not keep_parentheses and "(" in text:
        text = _PAREN.sub(" ", text)
    if "-" in text:
        text = _HYPHEN.sub("", _ELIDED.sub(" ", text))
        text = _TRIPLE.sub(r"\1\1", text)
    words = _NON_WORD.sub(" ", text).split()
    return [_stem_cached(w) for w in words if w not in STOPWORDS]


def exact_key(text: str, keep_parentheses: bool = True) -> str:
    """Order-free key for the exact index: "sykepleier psykiatrisk" = "psykiatrisk sykepleier"."""
    return " ".join(sorted(set(tokens(text, keep_parentheses))))


def surface(text: str) -> str:
    """Folded words without punctuation, unstemmed, in order: the input to character n-grams.

    Unstemmed on purpose: word endings carry signal for n-grams (measured: stemming cost
    2-3 points of held-out accuracy), and typos are what n-grams are for. Hyphens split
    ("butikk-kasserer" → "butikk kasserer"), so each part meets its own n-grams.
    """
    return " ".join(_NON_WORD.sub(" ", fold(text)).split())


# Head nouns that NAV's list and users swap freely: "lagerassistent", "lagermedarbeider" and
# "lagerarbeider" are the same job. Stemmed forms, most specific first.
HEAD_SYNONYMS = ("medarbeid", "arbeid", "assistent", "hjelp", "ansatt")
_JOIN_WORDS = frozenset({"i", "på", "ved", "innen", "hos", "for", "av"})


def variants(text: str) -> list[str]:
    """Alternative exact keys to try when a title has no exact match.

    Two rewrites, both cheap dictionary probes: (1) swap a synonymous head noun
    ("kjøkkenmedarbeider" → "kjøkkenassistent"); (2) glue a two-word title into the Norwegian
    compound ("medarbeider i butikk", "butikk medarbeider" → "butikkmedarbeider").
    """
    words = _NON_WORD.sub(" ", fold(text).replace("-", "")).split()
    content = [w for w in words if w not in _JOIN_WORDS]
    out: list[str] = []
    if len(content) == 2:
        a, b = content
        out += [exact_key(a + b), exact_key(b + a)]
    base = tokens(text)
    for i, tok in enumerate(base):
        head = next((h for h in HEAD_SYNONYMS if tok.endswith(h)), None)
        if head is None or len(tok) == len(head):
            continue
        prefix = tok[: -len(head)]
        for alt in HEAD_SYNONYMS:
            if alt != head:
                swapped = base[:i] + [prefix + alt] + base[i + 1 :]
                out.append(" ".join(sorted(set(swapped))))
    return [k for k in dict.fromkeys(out) if k]
