"""Callbacks driven by ``fit``: History, progress, the stopping criteria, and Keras's family
(checkpoints, learning-rate control, CSV logging, functions as callbacks, backup and restore)."""

from refnn.callbacks.backup_and_restore import BackupAndRestore
from refnn.callbacks.base import NO_COUNTERPART, Callback, CallbackList
from refnn.callbacks.csv_logger import CSVLogger
from refnn.callbacks.early_stopping import EarlyStopping
from refnn.callbacks.goal import Goal
from refnn.callbacks.history import STOP_REASONS, History
from refnn.callbacks.lambda_callback import LambdaCallback
from refnn.callbacks.learning_rate_scheduler import LearningRateScheduler
from refnn.callbacks.model_checkpoint import ModelCheckpoint
from refnn.callbacks.progress import ProgressBar
from refnn.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from refnn.callbacks.terminate_on_nan import TerminateOnNaN
from refnn.callbacks.time_limit import TimeLimit
from refnn.utils.unsupported import missing_name

__all__ = ["BackupAndRestore", "Callback", "CallbackList", "CSVLogger", "EarlyStopping", "Goal", "History",
           "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint", "STOP_REASONS", "ProgressBar",
           "ReduceLROnPlateau", "TerminateOnNaN", "TimeLimit"]

__getattr__ = missing_name("refnn.callbacks", ", ".join(n for n in __all__ if n[0].isupper() and n != "STOP_REASONS"), {
    **{name: advice + "." for name, advice in NO_COUNTERPART.items()},
    "ProgbarLogger": "fit(verbose=1) shows refnn's progress bar.",
})
