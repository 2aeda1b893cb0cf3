"""Diabetes regression: mean squared error, MAE and RMSE metrics, RMSprop, early stopping."""
from sklearn.datasets import load_diabetes

import keras

keras.utils.set_random_seed(0)
keras.config.set_floatx("float64")

x, y = load_diabetes(return_X_y=True)
y = (y - y.mean()) / y.std()
x_train, y_train, x_test, y_test = x[:350], y[:350], x[350:], y[350:]

model = keras.Sequential([
    keras.Input(shape=(10,)),
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(1),
])
model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.001), loss="mse",
              metrics=["mae", keras.metrics.RootMeanSquaredError()])
early_stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
history = model.fit(x_train, y_train, epochs=60, batch_size=32, validation_split=0.2,
                    callbacks=[early_stop], verbose=0)

test_mse, test_mae, test_rmse = model.evaluate(x_test, y_test, verbose=0)
predictions = model.predict(x_test, verbose=0).flatten()
