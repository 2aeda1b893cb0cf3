"""Iris, one-hot labels: a first Keras classifier (softmax output, categorical crossentropy)."""
import numpy as np
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

import keras

keras.utils.set_random_seed(42)
keras.config.set_floatx("float64")

x, labels = load_iris(return_X_y=True)
x = (x - x.mean(axis=0)) / x.std(axis=0)
y = keras.utils.to_categorical(labels, num_classes=3)
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0, stratify=labels)

model = keras.Sequential([
    keras.Input(shape=(4,)),
    keras.layers.Dense(16, activation="relu"),
    keras.layers.Dense(8, activation="tanh"),
    keras.layers.Dense(3, activation="softmax"),
])
model.summary()
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=40, batch_size=16, validation_split=0.2, verbose=0)

test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
probabilities = model.predict(x_test, verbose=0)
predicted_class = np.argmax(probabilities, axis=1)
print(f"test accuracy {test_accuracy:.3f}")
