"""Breast cancer, a sigmoid output and binary crossentropy, with AUC, precision and recall."""
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import keras

keras.utils.set_random_seed(3)
keras.config.set_floatx("float64")

x, y = load_breast_cancer(return_X_y=True)
x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, random_state=1)
scaler = StandardScaler().fit(x_train)
x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)

model = keras.Sequential([
    keras.Input(shape=(x_train.shape[1],)),
    keras.layers.Dense(16, activation="relu"),
    keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-3),
    loss="binary_crossentropy",
    metrics=["accuracy", keras.metrics.AUC(name="auc"), keras.metrics.Precision(name="precision"),
             keras.metrics.Recall(name="recall")],
)
history = model.fit(x_train, y_train, epochs=25, batch_size=32, validation_data=(x_val, y_val), verbose=0)

val_loss, val_accuracy, val_auc, val_precision, val_recall = model.evaluate(x_val, y_val, verbose=0)
scores = model.predict(x_val, batch_size=64, verbose=0)
first_layer_kernel = model.layers[0].get_weights()[0]
