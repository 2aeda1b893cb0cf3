"""``refnn-compare notebooks``: every lesson is written as a valid nbformat v4 notebook, and the
small ones run clean, top to bottom, in a kernel of this very Python (nbclient + ipykernel).

Executed here (≈ 10 s each, mostly TensorFlow's import in the kernel): ``backprop``,
``activations``, ``optimizers``. The others train with Keras's ``fit`` (20 s to 2 min on two slow
cores): they are generated, validated and compiled cell by cell, not run.
"""

import io
import os
import re
import sys
import types

import pytest

nbformat = pytest.importorskip("nbformat")

from comparisons import cli, notebooks  # noqa: E402
from comparisons.lessons import LESSONS  # noqa: E402

#: notebook → (the least number of "max |a − b|" lines it prints, the bound on every such number)
EXECUTED = {"backprop": (13, 1e-12), "activations": (7, 1e-12), "optimizers": (6, 1e-12)}
NUMBER = re.compile(r"\d\.\de[+-]\d+")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """All notebooks written by the command line, and what it printed."""
    out = tmp_path_factory.mktemp("notebooks")
    printed = io.StringIO()
    assert notebooks.main(["--out", str(out)], stream=printed) == 0
    return out, printed.getvalue()


def test_every_lesson_has_a_notebook():
    assert set(notebooks.NOTEBOOKS) == set(LESSONS)


def test_writes_one_valid_notebook_per_lesson(written):
    out, printed = written
    assert sorted(os.listdir(out)) == sorted(f"{name}.ipynb" for name in notebooks.NOTEBOOKS)
    for name in notebooks.NOTEBOOKS:
        path = out / f"{name}.ipynb"
        assert str(path) in printed
        notebook = nbformat.read(str(path), as_version=4)
        nbformat.validate(notebook)
        assert notebook.nbformat == 4 and notebook.metadata.kernelspec.name == "python3"
        cells = notebook.cells
        assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# "), name
        assert "$" in cells[0].source, f"{name}: the title cell states the lesson's formula"
        assert sum(c.cell_type == "markdown" for c in cells) >= 3, name
        sources = [c.source for c in cells if c.cell_type == "code"]
        assert all(not c.outputs for c in cells if c.cell_type == "code"), "written without outputs"
        for i, source in enumerate(sources):
            compile(source, f"{name}.ipynb cell {i}", "exec")  # every cell is valid Python
        whole = "\n".join(sources)
        assert "import refnn" in whole and "import keras" in whole, name
        assert "comparisons" not in whole, f"{name}: a lecturer's code, not this package's"
        assert "keras.utils.set_random_seed(0)" in whole, name
        assert whole.count("refnn.Sequential(") == whole.count("seed=0, dtype="), f"{name}: every model seeded"
        assert whole.index("import refnn") < whole.index("import keras"), "refnn first, then Keras"
        assert '":"' in whole and "set_xlabel" in whole and "set_ylabel" in whole, \
            f"{name}: a plot with Keras dotted and labelled axes"


def test_lesson_option_and_a_bad_name(tmp_path, capsys):
    assert cli.main(["notebooks", "--out", str(tmp_path), "--lesson", "backprop", "--lesson", "stopping"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["backprop.ipynb", "stopping.ipynb"]
    assert "backprop.ipynb" in capsys.readouterr().out
    assert notebooks.main(["--out", str(tmp_path / "x"), "--lesson", "backprop", "--lesson", "nope"]) == 2
    assert "'nope'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("name", list(EXECUTED))
def test_small_notebook_runs_clean(name, written, monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    out, _ = written
    notebook = nbformat.read(str(out / f"{name}.ipynb"), as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    notebooks.execute(notebook, str(out), timeout=120)  # raises CellExecutionError on a failing cell

    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    kernel_python = notebook.cells[0].outputs[0].text.strip()
    assert os.path.realpath(kernel_python) == os.path.realpath(sys.executable), \
        "the kernel is this environment's Python (the one with refnn and TensorFlow)"
    stdout = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stdout")
    least, bound = EXECUTED[name]
    differences = [line for line in stdout.splitlines() if "max |" in line]
    assert len(differences) >= least, stdout
    for line in differences:
        values = [float(v) for v in NUMBER.findall(line)]
        assert values and max(values) < bound, line
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{name}: its plot was drawn"


def test_execute_reports_a_failing_cell(tmp_path, monkeypatch, capsys):
    from comparisons.notebooks.cells import code, md

    lesson = types.ModuleType("broken_lesson")
    lesson.TITLE, lesson.CELLS = "Broken", [md("# Broken $x$"), code("print('before')"), code("1 / 0")]
    monkeypatch.setitem(sys.modules, "broken_lesson", lesson)
    monkeypatch.setitem(notebooks.NOTEBOOKS, "broken", "broken_lesson")
    assert notebooks.main(["--out", str(tmp_path), "--lesson", "broken", "--execute"]) == 1
    assert "ZeroDivisionError" in capsys.readouterr().err
    ran = nbformat.read(str(tmp_path / "broken.ipynb"), as_version=4)  # written as far as it ran
    assert ran.cells[1].outputs[0].text == "before\n"
    assert ran.cells[2].outputs[0].ename == "ZeroDivisionError"
