"""Wine, a callback-heavy run: ReduceLROnPlateau, ModelCheckpoint, CSVLogger, LambdaCallback, then the
best checkpoint loaded back and evaluated."""
import numpy as np
from sklearn.datasets import load_wine

import keras

keras.utils.set_random_seed(5)
keras.config.set_floatx("float64")

x, y = load_wine(return_X_y=True)
x = (x - x.mean(axis=0)) / x.std(axis=0)
order = np.random.permutation(len(x))
x, y = x[order], y[order]

model = keras.Sequential([
    keras.Input(shape=(13,)),
    keras.layers.Dense(32, activation="tanh"),
    keras.layers.Dense(3, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])

learning_rates = []
callbacks = [
    keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=1e-3),
    keras.callbacks.ModelCheckpoint("best.keras", monitor="val_accuracy", save_best_only=True),
    keras.callbacks.CSVLogger("training.csv"),
    keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: learning_rates.append(float(model.optimizer.learning_rate))),
]
history = model.fit(x, y, epochs=30, batch_size=16, validation_split=0.3, callbacks=callbacks, verbose=0)

best = keras.models.load_model("best.keras")
best_loss, best_accuracy = best.evaluate(x[-54:], y[-54:], verbose=0)
csv_rows = np.genfromtxt("training.csv", delimiter=",", names=True)
csv_loss = csv_rows["loss"]
