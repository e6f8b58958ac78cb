"""Train the shipped title classifier on every reference label: models/title_classifier.joblib.

    nice .venv/bin/python tools/build_title_model.py [--out models/title_classifier.joblib]

The model is a pure function of the label table in ``matching/reference`` (and the
parameters in ``matching/taxonomy/title_model.py``); its JSON card records the table's
sha256, so a normaliser never uses a model trained on other labels (it retrains instead,
slowly, and logs why). Rerun after changing any title reference file. Takes a few minutes on
two cores. The accuracy figures in the card come from ``benchmarks/bench_normalisation.py``
(a model trained without the held-out titles), pasted with ``--accuracy``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matching.taxonomy import title_model  # noqa: E402
from matching.taxonomy._files import reference_path  # noqa: E402
from matching.taxonomy.titles import TitleNormaliser, reference_labels  # noqa: E402

SOURCE_FILES = (
    "styrk08.csv",
    "nav_styrk_titles.csv",
    "nav_job_titles.csv",
    "esco_occupation_labels_en.csv",
    "jobbert_titles_en.csv",
    "swedish_occupation_names.csv",
    "esco_no_labels_styrk08.csv",
    "utdanning_no_titles.csv",
    "ordbank_lemmas_nb.txt",
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=title_model.DEFAULT_PATH)
    ap.add_argument("--accuracy", type=str, default=None, help="JSON object of held-out figures to record in the card")
    args = ap.parse_args()

    import hashlib

    import sklearn

    labels = reference_labels()
    norm = TitleNormaliser(labels, classifier=None)
    t0 = time.perf_counter()
    clf = title_model.train(norm.labels)
    seconds = time.perf_counter() - t0
    card = {
        "model": "title_classifier",
        "features_version": title_model.FEATURES_VERSION,
        "estimator": f"LinearSVC(C={clf.C}) over char_wb{list(clf.ngram_range)} + word TF-IDF"
        + (" + compound head/modifier (Norsk Ordbank lemmas)" if clf.compounds else ""),
        "softmax_beta": clf.beta,
        "prune": clf.prune,
        "n_codes": int(len(clf.codes_)),
        "n_weights": int(clf.coef_.nnz),
        "training_sha256": title_model.frame_sha256(labels),
        "sources": {name: hashlib.sha256(reference_path(name).read_bytes()).hexdigest() for name in SOURCE_FILES},
        "train_seconds": round(seconds, 1),
        "scikit-learn": sklearn.__version__,
        "rebuild": "python tools/build_title_model.py",
        "held_out_accuracy": json.loads(args.accuracy) if args.accuracy else None,
    }
    title_model.save(clf, args.out, card)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) in {seconds:.0f} s")


if __name__ == "__main__":
    main()
