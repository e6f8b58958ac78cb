"""Character n-gram TF-IDF that is fast to fit on many short titles.

Same features as ``TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)``
– ``char_wb`` n-grams never cross a word boundary, so a title's counts are the sum of its
words' counts. We therefore run scikit-learn's analyser once per *distinct word* (≈9k) instead
of once per label (≈38k) and assemble documents with a sparse product: about 5x faster, which
is what keeps the normaliser's first call well under the API's start-up budget.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class CharNgramTfidf:
    """``char_wb`` TF-IDF over whitespace-separated, already-normalised text.

    Parameters
    ----------
    ngram_range : smallest and largest n-gram length.
    """

    def __init__(self, ngram_range: tuple[int, int] = (2, 4)) -> None:
        self.ngram_range = ngram_range

    def fit_transform(self, docs: list[str]) -> sp.csr_matrix:
        from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

        words = sorted({w for d in docs for w in d.split()})
        self.word_index_ = {w: i for i, w in enumerate(words)}
        self.counter_ = CountVectorizer(analyzer="char_wb", ngram_range=self.ngram_range,
                                        lowercase=False, dtype=np.float32)
        self.word_counts_ = self.counter_.fit_transform(words).tocsr()
        counts = self._doc_words(docs, self.word_index_, len(words)) @ self.word_counts_
        self.tfidf_ = TfidfTransformer(sublinear_tf=True)
        return self.tfidf_.fit_transform(counts).astype(np.float32).tocsr()

    def transform(self, docs: list[str]) -> sp.csr_matrix:
        unseen = sorted({w for d in docs for w in d.split()} - self.word_index_.keys())
        index = self.word_index_
        words = self.word_counts_
        if unseen:
            index = {**index, **{w: len(index) + i for i, w in enumerate(unseen)}}
            words = sp.vstack([words, self.counter_.transform(unseen)]).tocsr()
        counts = self._doc_words(docs, index, words.shape[0]) @ words
        return self.tfidf_.transform(counts).astype(np.float32).tocsr()

    def known_share(self, doc: str, n: int = 4) -> float:
        """Share of the doc's character n-grams (word-padded, as ``char_wb``) seen in fitting.

        Real titles, even unseen ones, are made of known word parts (≈100 %); keyboard noise
        and random strings are not (median ≈ 10 %), which makes this a cheap garbage detector.
        """
        vocab = self.counter_.vocabulary_
        grams = []
        for w in doc.split():
            w = f" {w} "
            grams += [w[i:i + n] for i in range(max(1, len(w) - n + 1))]
        return sum(g in vocab for g in grams) / len(grams) if grams else 0.0

    @staticmethod
    def _doc_words(docs: list[str], index: dict[str, int], n_words: int) -> sp.csr_matrix:
        rows, cols = [], []
        for r, d in enumerate(docs):
            for w in d.split():
                rows.append(r)
                cols.append(index[w])
        data = np.ones(len(rows), dtype=np.float32)
        return sp.csr_matrix((data, (rows, cols)), shape=(len(docs), n_words))
