"""Reference solutions of the lab's skeletons, written plainly from the lecture's formulas
(NumPy only, no refnn): ``refnn-compare check`` passes them."""
