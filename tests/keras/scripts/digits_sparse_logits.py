"""Digits with integer labels, a linear output layer and from_logits=True (the TensorFlow tutorials' form)."""
from sklearn.datasets import load_digits

import keras

keras.utils.set_random_seed(7)
keras.config.set_floatx("float64")

digits = load_digits()
x = digits.data / 16.0
y = digits.target
x_train, y_train = x[:1400], y[:1400]
x_test, y_test = x[1400:], y[1400:]

model = keras.Sequential()
model.add(keras.Input(shape=(64,)))
model.add(keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal"))
model.add(keras.layers.Dense(32, activation="relu"))
model.add(keras.layers.Dense(10))

model.compile(
    optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=[keras.metrics.SparseCategoricalAccuracy()],
)
history = model.fit(x_train, y_train, batch_size=64, epochs=15, validation_data=(x_test, y_test), verbose=0)

results = model.evaluate(x_test, y_test, batch_size=128, return_dict=True, verbose=0)
logits = model.predict(x_test[:20], verbose=0)
print(results)
