"""Prefix lookup over title labels, for the typeahead: binary search, not a scan.

A typed prefix ("lagerm", "barne") is looked up in two sorted arrays built once: the folded
labels themselves (the label *starts* with the prefix) and every word-start suffix of a
label (a later word does: "leder i barne…"). Each lookup is two binary searches giving a
contiguous range, so a query costs O(log n + matches) instead of a pass over all ~50,000
labels (which took 50-90 ms per keystroke).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PrefixIndex:
    starts: np.ndarray  # sorted folded labels (unicode array)
    start_key: np.ndarray  # label key id of each entry of `starts`
    words: np.ndarray  # sorted suffixes that begin at a later word of a label
    word_key: np.ndarray  # label key id of each entry of `words`
    key_code: np.ndarray  # per (key, code) row: code id
    key_weight: np.ndarray  # per (key, code) row: summed evidence weight
    key_ptr: np.ndarray  # CSR pointer: rows of key i are key_ptr[i]:key_ptr[i + 1]
    codes: np.ndarray  # code id → code (str)

    @classmethod
    def build(cls, keys: list[str], codes: list[str], weights: np.ndarray) -> PrefixIndex:
        """From (folded label, code, weight) rows; a label may have several codes."""
        uniq_codes, code_id = np.unique(np.asarray(codes, dtype=str), return_inverse=True)
        uniq_keys, key_id = np.unique(np.asarray(keys, dtype=str), return_inverse=True)
        order = np.argsort(key_id, kind="stable")
        key_ptr = np.concatenate([[0], np.cumsum(np.bincount(key_id, minlength=len(uniq_keys)))])
        suffixes: list[str] = []
        owners: list[int] = []
        for i, k in enumerate(uniq_keys.tolist()):
            pos = k.find(" ")
            while pos >= 0:
                suffixes.append(k[pos + 1 :])
                owners.append(i)
                pos = k.find(" ", pos + 1)
        words = np.asarray(suffixes, dtype=str) if suffixes else np.asarray([], dtype="<U1")
        w_order = np.argsort(words, kind="stable")
        return cls(
            starts=uniq_keys,
            start_key=np.arange(len(uniq_keys)),
            words=words[w_order],
            word_key=np.asarray(owners, dtype=np.int64)[w_order],
            key_code=code_id[order],
            key_weight=np.asarray(weights, dtype=float)[order],
            key_ptr=key_ptr,
            codes=uniq_codes,
        )

    @staticmethod
    def _range(sorted_arr: np.ndarray, prefix: str) -> slice:
        lo = int(np.searchsorted(sorted_arr, prefix, side="left"))
        hi = int(np.searchsorted(sorted_arr, prefix + "\U0010ffff", side="left"))
        return slice(lo, hi)

    def evidence(self, prefix: str, word_factor: float = 0.5) -> list[tuple[str, float]]:
        """Per code, the weight of the labels that start with `prefix` (a label whose later
        word starts with it counts `word_factor`, once per label), best first (ties by code)."""
        factor: dict[int, float] = {}
        for k in self.word_key[self._range(self.words, prefix)].tolist():
            factor[k] = word_factor
        for k in self.start_key[self._range(self.starts, prefix)].tolist():
            factor[k] = 1.0
        if not factor:
            return []
        keys = np.fromiter(factor.keys(), dtype=np.int64, count=len(factor))
        f = np.fromiter(factor.values(), dtype=float, count=len(factor))
        lens = self.key_ptr[keys + 1] - self.key_ptr[keys]
        rows = np.repeat(self.key_ptr[keys] - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens) + np.arange(int(lens.sum()))
        w = self.key_weight[rows] * np.repeat(f, lens)
        total = np.bincount(self.key_code[rows], weights=w, minlength=len(self.codes))
        hit = np.flatnonzero(total > 0)
        order = hit[np.lexsort((self.codes[hit], -total[hit]))]
        return [(str(self.codes[c]), float(total[c])) for c in order]


@dataclass(frozen=True)
class WordCompleter:
    """Completions of a partly typed word from the label vocabulary, most evidenced first.

    ``words`` are the folded words of the labels, sorted; ``weight`` the summed evidence of the
    labels each occurs in. ``complete("medarb")`` → ``[("medarbeider", 812.5), …]``; a word
    that is a known modifier plus a partly typed head ("lagermedarb") is also completed at the
    head (``compound``), so an unseen compound still reaches its occupation.
    """

    words: np.ndarray
    weight: np.ndarray
    head_weight: np.ndarray
    known: frozenset[str]

    @classmethod
    def build(cls, words: list[str], weights: np.ndarray, heads: np.ndarray, known: frozenset[str]) -> WordCompleter:
        """From one row per (label, word): the word, the label's evidence, and whether the
        word may head a compound (the last word of a Nordic label, not an English word)."""
        uniq, inv = np.unique(np.asarray(words, dtype=str), return_inverse=True)
        w = np.asarray(weights, dtype=float)
        return cls(
            uniq,
            np.bincount(inv, weights=w, minlength=len(uniq)),
            np.bincount(inv, weights=w * np.asarray(heads, dtype=bool), minlength=len(uniq)),
            known,
        )

    def complete(self, prefix: str, n: int, heads: bool = False) -> list[tuple[str, float]]:
        """The ``n`` heaviest vocabulary words starting with ``prefix`` (ties by word); with
        ``heads``, only words that can head a compound (``head_weight`` > 0)."""
        span = PrefixIndex._range(self.words, prefix)
        r = np.arange(span.start, span.stop)
        w = (self.head_weight if heads else self.weight)[r]
        if heads:
            r, w = r[w > 0], w[w > 0]
        if len(w) > n:
            keep = np.argpartition(-w, n - 1)[:n]
        else:
            keep = np.arange(len(w))
        order = keep[np.lexsort((self.words[r][keep], -w[keep]))]
        return [(str(self.words[r][i]), float(w[i])) for i in order]

    def compound(self, word: str, n: int, min_modifier: int = 3, min_head: int = 3) -> list[tuple[str, float]]:
        """Completions of ``word`` read as modifier + partly typed head: "lager|medarb" →
        "lagermedarbeider". The modifier is a known word (Ordbank lemma or label word), with
        a linking -s-/-e- allowed after it; the longest modifier first."""
        out: dict[str, float] = {}
        for i in range(len(word) - min_head, min_modifier - 1, -1):
            left, head = word[:i], word[i:]
            if not (left in self.known or (left[-1] in "se" and left[:-1] in self.known and len(left) > min_modifier)):
                continue
            for h, w in self.complete(head, n, heads=True):
                out.setdefault(left + h, w)
            if len(out) >= n:
                break
        return sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
