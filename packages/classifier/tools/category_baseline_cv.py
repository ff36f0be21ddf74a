"""Yardstick for the category model's figure: 5-fold CV macro-F1 of the plain TF-IDF + linear SVM
baseline that issue #18 names (held out: 0.871), so the gap between this machine's CV and the held-out
set can be read off the baseline and applied to our own CV figure. Not part of the product or tests.

  python3 -m venv /tmp/skl && /tmp/skl/bin/pip install scikit-learn==1.9.1
  /tmp/skl/bin/python packages/classifier/tools/category_baseline_cv.py ../shared/data/sms-zh-spam-categories-train.tsv
"""
import sys

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline, make_union
from sklearn.svm import LinearSVC


def main(path: str) -> None:
    labels, texts = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            label, text = line.rstrip("\n").split("\t", 1)
            labels.append(label)
            texts.append(text)
    words = lambda **k: TfidfVectorizer(token_pattern=r"\S+", sublinear_tf=True, **k)
    chars = lambda lo, hi: TfidfVectorizer(analyzer="char", ngram_range=(lo, hi), sublinear_tf=True)
    variants = {
        # The baseline as scikit-learn ships it: default TF-IDF, default LinearSVC.
        "plain TF-IDF + LinearSVC (defaults)": lambda: make_pipeline(TfidfVectorizer(), LinearSVC()),
        "char 1-3": lambda: make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3)), LinearSVC()),
        "words 1-2 + chars 1-3, balanced, C 1": lambda: make_pipeline(
            make_union(words(ngram_range=(1, 2)), chars(1, 3)), LinearSVC(C=1, class_weight="balanced")
        ),
        "words 1 + chars 1-4, balanced, C 1": lambda: make_pipeline(
            make_union(words(), chars(1, 4)), LinearSVC(C=1, class_weight="balanced")
        ),
    }
    for name, make in variants.items():
        scores = []
        for seed in (42, 7):
            folds = StratifiedKFold(5, shuffle=True, random_state=seed)
            predicted = cross_val_predict(make(), texts, labels, cv=folds)
            scores.append(f1_score(labels, predicted, average="macro"))
        print(f"{name:40s} macro-F1 seed 42 {scores[0]:.4f}, seed 7 {scores[1]:.4f}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
