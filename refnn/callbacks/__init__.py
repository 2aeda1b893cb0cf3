"""Callbacks driven by ``fit``: History, progress, and the stopping criteria."""

from refnn.callbacks.base import Callback, CallbackList
from refnn.callbacks.early_stopping import EarlyStopping
from refnn.callbacks.goal import Goal
from refnn.callbacks.history import STOP_REASONS, History
from refnn.callbacks.progress import ProgressBar
from refnn.callbacks.terminate_on_nan import TerminateOnNaN
from refnn.callbacks.time_limit import TimeLimit

__all__ = ["Callback", "CallbackList", "EarlyStopping", "Goal", "History", "STOP_REASONS", "ProgressBar",
           "TerminateOnNaN", "TimeLimit"]
