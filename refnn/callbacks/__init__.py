"""Callbacks driven by ``fit``: History, progress, and the stopping criteria."""

from refnn.callbacks.base import Callback, CallbackList
from refnn.callbacks.history import History
from refnn.callbacks.progress import ProgressBar

__all__ = ["Callback", "CallbackList", "History", "ProgressBar"]
