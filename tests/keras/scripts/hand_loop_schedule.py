"""A training loop by hand (train_on_batch / test_on_batch) with a learning-rate schedule, a look
inside the layers, then fit resumed at a later epoch with validation every other epoch."""
import numpy as np

import keras

keras.utils.set_random_seed(21)
keras.config.set_floatx("float64")

x = np.random.normal(size=(512, 8))
true_w = np.random.normal(size=8)
y = (x @ true_w + 0.5 * np.random.normal(size=512) > 0).astype("float64")
x_train, y_train, x_val, y_val = x[:384], y[:384], x[384:], y[384:]

model = keras.Sequential([
    keras.Input(shape=(8,)),
    keras.layers.Dense(12, activation="tanh", name="hidden"),
    keras.layers.Dense(1, activation="sigmoid", name="output"),
])
schedule = keras.optimizers.schedules.ExponentialDecay(initial_learning_rate=0.2, decay_steps=12, decay_rate=0.8)
model.compile(optimizer=keras.optimizers.SGD(learning_rate=schedule), loss="binary_crossentropy",
              metrics=["accuracy"])

batch_losses = []
for epoch in range(3):
    for start in range(0, len(x_train), 32):
        loss, accuracy = model.train_on_batch(x_train[start:start + 32], y_train[start:start + 32])
        batch_losses.append(loss)
val_loss, val_accuracy = model.test_on_batch(x_val, y_val)

hidden_kernel = np.array(model.get_layer("hidden").kernel)
output_bias = model.get_layer("output").get_weights()[1]
val_probabilities = np.array(model(x_val))
first_rows = model.predict_on_batch(x_val[:5])
trainable_count = len(model.trainable_weights)

history = model.fit(x_train, y_train, epochs=8, initial_epoch=3, batch_size=64, validation_data=(x_val, y_val),
                    validation_freq=2, verbose=0)
final_loss = model.evaluate(x_val, y_val, verbose=0, return_dict=True)
