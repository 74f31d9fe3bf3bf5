"""Transfer learning with few labels: a CNN trained on Fashion-MNIST classes 0-4 hands its
convolutional part (frozen) to classes 5-9, against the same architecture trained from scratch
on the same few labelled images (``python benchmarks/bench_transfer.py``; ``--quick`` for a
smoke test).  Accuracy is on every test image of classes 5-9; one run, all numbers printed and
written to ``benchmarks/results/transfer.json``.

One run on the shared 2 cores (base: 10,000 images, 3 epochs, 337 s, 0.879 on the 0-4 test
images; heads 40 epochs; mean of 3 draws): 10 labels per class, transfer 0.819 (sd 0.032) vs
scratch 0.822 (0.012); 50: 0.920 (0.005) vs 0.911 (0.002); 100: 0.928 (0.004) vs 0.924 (0.003).
"""

from __future__ import annotations

import argparse
import time

import common  # noqa: F401  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow loads)
import numpy as np

import dlstat as dl

CONV = [dl.conv2d(16, 3), dl.maxpool(2), dl.conv2d(32, 3), dl.maxpool(2), dl.flatten()]
OLD, NEW = [0, 1, 2, 3, 4], [5, 6, 7, 8, 9]
DRAWS = 3  # independent draws of the labelled images per size


def classes(images, labels, wanted):
    codes = np.asarray(labels.codes)
    keep = np.isin(codes, wanted)
    return images[keep] / 255.0, codes[keep]


def few(X, y, n_per_class, seed):
    rng = np.random.default_rng(seed)
    rows = np.concatenate([rng.choice(np.flatnonzero(y == c), n_per_class, replace=False)
                           for c in np.unique(y)])
    return X[rows], y[rows]


def compare(base, labelled, X_test, y_test, epochs):
    """Test accuracy of the transferred head and of the same network from scratch."""
    settings = dict(epochs=epochs, batch_size=32, seed=2, verbose=0)
    start = time.perf_counter()
    transfer = dl.DNNClassifier(base=base, upto="flatten", hidden=(32,), **settings)
    transfer.fit(*labelled)
    seconds_t = time.perf_counter() - start
    start = time.perf_counter()
    scratch = dl.DNNClassifier(architecture=[*CONV, dl.dense(32)], **settings).fit(*labelled)
    return dict(transfer=transfer.score(X_test, y_test), scratch=scratch.score(X_test, y_test),
                seconds_transfer=seconds_t, seconds_scratch=time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="transfer")
    args = parser.parse_args()
    n_base, base_epochs, few_epochs = (2000, 1, 5) if args.quick else (10000, 3, 40)
    sizes = (10, 50) if args.quick else (10, 50, 100)
    images, labels = dl.datasets.fashion_mnist("train")
    test_images, test_labels = dl.datasets.fashion_mnist("test")
    X_old, y_old = classes(images, labels, OLD)
    X_new, y_new = classes(images, labels, NEW)
    X_test, y_test = classes(test_images, test_labels, NEW)

    start = time.perf_counter()
    base = dl.DNNClassifier(architecture=[*CONV, dl.dense(64)], epochs=base_epochs,
                            batch_size=64, seed=1, verbose=0).fit(X_old[:n_base], y_old[:n_base])
    base_seconds = time.perf_counter() - start
    X_old_test, y_old_test = classes(test_images, test_labels, OLD)
    base_accuracy = base.score(X_old_test, y_old_test)
    print(f"base CNN on classes 0-4: {n_base} images, {base_epochs} epochs, "
          f"{base_seconds:.0f} s, test accuracy {base_accuracy:.3f}", flush=True)

    rows = []
    for n in sizes:
        for draw in range(DRAWS):
            rows.append(compare(base, few(X_new, y_new, n, seed=[n, draw]), X_test, y_test,
                                few_epochs) | {"n_per_class": n, "draw": draw})
        scores = [(r["transfer"], r["scratch"]) for r in rows if r["n_per_class"] == n]
        (mean_t, mean_s), (sd_t, sd_s) = np.mean(scores, 0), np.std(scores, 0, ddof=1)
        print(f"{n:4d} labelled images per class ({DRAWS} draws): transfer {mean_t:.3f} "
              f"(sd {sd_t:.3f}), from scratch {mean_s:.3f} (sd {sd_s:.3f})", flush=True)
    common.write_json({
        "config": dict(n_base=n_base, base_epochs=base_epochs, few_epochs=few_epochs, draws=DRAWS,
                       architecture="conv2d(16,3) maxpool conv2d(32,3) maxpool flatten "
                                    "dense(64|32)", test_images=int(len(y_test))),
        "base": dict(seconds=base_seconds, test_accuracy_classes_0_4=base_accuracy),
        "few_labels": rows, "machine": common.machine_info()},
        args.out + ("_quick" if args.quick else "") + ".json")


if __name__ == "__main__":
    main()
