"""The main job of ``make demo``, part 1: refnn alone trains an MLP on scikit-learn's digits.

8×8 images of handwritten digits (1797 samples, bundled with scikit-learn, nothing downloaded),
pixels scaled to [0, 1], a stratified 75/25 split, a 64-64-10 ReLU/softmax network trained with
mini-batch SGD + momentum on the categorical crossentropy, 20% of the training rows held out for
validation and early stopping.
"""

from __future__ import annotations

import argparse
import time

import refnn
from refnn import callbacks, layers, optimizers
from refnn.utils.data import one_hot, train_test_split


def load_digits_split(seed: int = 0, dtype="float64"):
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype(dtype)
    y = one_hot(digits.target, 10, dtype=dtype)
    return train_test_split(x, y, test_size=0.25, seed=seed, stratify=True)


def build_model(seed: int = 0, dtype="float64") -> refnn.Sequential:
    return refnn.Sequential(
        [layers.Dense(64, activation="relu"), layers.Dense(64, activation="relu"),
         layers.Dense(10, activation="softmax")],
        input_dim=64, seed=seed, dtype=dtype,
    )


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = parser.parse_args(argv)

    x_train, x_test, y_train, y_test = load_digits_split(args.seed, args.dtype)
    model = build_model(args.seed, args.dtype)
    model.compile(optimizer=optimizers.SGD(learning_rate=0.05, momentum=0.9),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    print(f"\nTraining on {len(x_train)} digits ({args.dtype}), testing on {len(x_test)}.")
    stop = callbacks.EarlyStopping(monitor="val_loss", patience=8, restore_best_weights=True)
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, shuffle=True,
                        validation_split=0.2, callbacks=[stop], verbose=2)
    elapsed = time.perf_counter() - start
    result = model.evaluate(x_test, y_test, return_dict=True, verbose=0)
    print(f"\n{len(history.epoch)} epochs in {elapsed:.2f} s; early stopping restored the weights of "
          f"epoch {stop.best_epoch + 1} (val_loss {history.history['val_loss'][stop.best_epoch]:.4f})")
    print(f"Test loss {result['loss']:.4f} — test accuracy {100 * result['accuracy']:.2f}%")
    return result


if __name__ == "__main__":
    main()
