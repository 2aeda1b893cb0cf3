"""The lab's skeletons: copy one (``python -m comparisons.labs copy dense.py``), fill in its TODOs,
then ``refnn-compare check dense.py``. A folder of files to copy, not modules to import."""
