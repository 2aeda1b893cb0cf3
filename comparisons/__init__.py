"""refnn and Keras side by side: the lessons, the parity studies, the report, the benchmark and the
lab kit, behind the ``refnn-compare`` command (``comparisons.cli``).

``plot_history(history)`` draws a ``fit``'s training record (loss and val_loss with the best epoch
marked, then gradient norm, learning rate, validation failures and μ when recorded).
"""

from comparisons.history_plot import best_epoch, draw_training_record, plot_history

__all__ = ["plot_history", "best_epoch", "draw_training_record"]
