"""Imbalanced data (digit 0 against the rest, about 1 in 10): class weights, then sample weights."""
import numpy as np
from sklearn.datasets import load_digits

import keras

keras.utils.set_random_seed(11)
keras.config.set_floatx("float64")

x, digit = load_digits(return_X_y=True)
x = x / 16.0
y = (digit == 0).astype("float64")
x_train, y_train, x_test, y_test = x[:1200], y[:1200], x[1200:], y[1200:]

neg, pos = np.bincount(y_train.astype(int))
total = neg + pos
class_weight = {0: (1 / neg) * (total / 2.0), 1: (1 / pos) * (total / 2.0)}

model = keras.Sequential([
    keras.Input(shape=(64,)),
    keras.layers.Dense(16, activation="relu"),
    keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss=keras.losses.BinaryCrossentropy(),
              metrics=[keras.metrics.Precision(name="precision"), keras.metrics.Recall(name="recall"),
                       keras.metrics.BinaryAccuracy()])
weighted_history = model.fit(x_train, y_train, batch_size=100, epochs=10, validation_data=(x_test, y_test),
                             class_weight=class_weight, verbose=0)

sample_weight = np.where(y_train == 1, 5.0, 1.0)
sample_weighted_history = model.fit(x_train, y_train, batch_size=128, epochs=5, sample_weight=sample_weight,
                                    validation_split=0.25, verbose=0)
precision_recall = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
