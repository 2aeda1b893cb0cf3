"""``refnn-compare notebooks``: every lesson is written as a valid nbformat v4 notebook, and every
one runs clean, top to bottom, in a kernel of this very Python (nbclient + ipykernel).

The four that train (descent, initialization, overfitting, stopping) run at a small size set
through the environment variables their setup cell reads (``SMALL``: 2 epochs, 64 rows, a 0.2 s
budget); each notebook then takes a few seconds, most of it TensorFlow's import in the kernel.
Every printed "max |refnn − Keras|" number is held to its notebook's bound; dropout's masks are
drawn apart on the two sides, so its line is the one exception.
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
EXECUTED = {"backprop": (13, 1e-12), "activations": (7, 1e-12), "optimizers": (6, 1e-12), "descent": (3, 1e-12),
            "initialization": (8, 1e-12), "overfitting": (6, 1e-12), "stopping": (2, 1e-12)}
#: lines (by the text they contain) held to another bound than their notebook's; None: not compared.
#: L1 and L2: Keras rounds the penalty's factor λ to float32 even in float64 (≈1e-8 relative, see
#: refnn.regularizers), so the curves part at that level; dropout: each side draws its own masks.
OTHER_BOUND = {"dropout": None, "L1,": 1e-6, "L2,": 1e-6}
#: the size the training notebooks run at here (their defaults: 15–40 epochs, 240–500 rows, 3 s)
SMALL = {"REFNN_NOTEBOOK_EPOCHS": "2", "REFNN_NOTEBOOK_ROWS": "64", "REFNN_NOTEBOOK_SECONDS": "0.2"}
SIZED = ("descent", "initialization", "overfitting", "stopping")
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


def test_every_notebook_is_executed_and_the_training_ones_are_sized(written):
    assert set(EXECUTED) == set(notebooks.NOTEBOOKS)
    out, _ = written
    for name in SIZED:
        setup = next(c.source for c in nbformat.read(str(out / f"{name}.ipynb"), as_version=4).cells
                     if c.cell_type == "code")
        assert 'os.environ.get("REFNN_NOTEBOOK_EPOCHS"' in setup, f"{name}: its size is set in the setup cell"


def _bound(name, line):
    for text, bound in OTHER_BOUND.items():
        if text in line:
            return bound
    return EXECUTED[name][1]


@pytest.mark.parametrize("name", list(EXECUTED))
def test_notebook_runs_clean(name, written, monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    for variable, value in SMALL.items():
        monkeypatch.setenv(variable, value)
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
    least, _ = EXECUTED[name]
    differences = [line for line in stdout.splitlines() if "max |" in line]
    assert len(differences) >= least, stdout
    for line in differences:
        values, bound = [float(v) for v in NUMBER.findall(line)], _bound(name, line)
        assert values, line
        assert bound is None or max(values) < bound, line
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{name}: its plot was drawn"


@pytest.mark.parametrize("value", ["0", "-5", "=-1"])
def test_timeout_must_be_positive(value, tmp_path, capsys):
    option = ["--timeout" + value] if value.startswith("=") else ["--timeout", value]
    assert notebooks.main(["--out", str(tmp_path), "--execute", *option]) == 2
    error = capsys.readouterr().err
    assert "--timeout" in error and value.lstrip("=") in error and "positive" in error, error
    assert not os.listdir(tmp_path), "nothing written or run"
    with pytest.raises(ValueError, match="timeout"):
        notebooks.execute(notebooks.build("backprop"), str(tmp_path), timeout=0)


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
