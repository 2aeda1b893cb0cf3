"""Pictures of a graph: SVG (well-formed, every node with its value and gradient), DOT and text.
That the SVG renders in a real browser is tested in ``tests/browser``."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from refnn import graph
from refnn.graph import examples
from refnn.graph.display import array_lines, format_number

SVG = "{http://www.w3.org/2000/svg}"


def _network_graph():
    return examples.network_example()


def _texts(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg.encode()).iter(f"{SVG}text")]


def test_svg_is_well_formed_and_shows_every_value_and_gradient():
    g = _network_graph()
    svg = g.to_svg()
    root = ET.fromstring(svg.encode())
    assert root.tag == f"{SVG}svg" and root.get("viewBox")
    texts = _texts(svg)
    for node in g:
        assert node.label in texts
        for line in array_lines(node.value):
            assert line in texts, (node.label, line)
        if node.grad is not None:
            assert any(line in t for t in texts for line in array_lines(node.grad)), node.label
    assert sum(1 for _ in root.iter(f"{SVG}path")) >= sum(len(n.inputs) for n in g)
    # values and gradients in two colours, named in the legend
    classes = {t.get("class") for t in root.iter(f"{SVG}text")}
    assert {"value", "grad"} <= classes
    assert any("gradient" in t for t in texts) and any("value" in t for t in texts)


def test_nodes_flow_left_to_right():
    g = _network_graph()
    root = ET.fromstring(g.to_svg().encode())
    x_of = {}
    for group in root.iter(f"{SVG}g"):
        rect = group.find(f"{SVG}rect")
        title = group.find(f"{SVG}text")
        x_of[title.text] = float(rect.get("x"))
    for node in g:
        for source in node.inputs:
            assert x_of[source.label] < x_of[node.label], (source.label, node.label)


def test_large_arrays_are_summarised():
    lines = array_lines(np.arange(40.0).reshape(8, 5))
    assert lines == ["min 0, max 39", "‖·‖ 143"]  # √(Σ k², k < 40) = √20540
    assert array_lines(np.array([[1.0, -0.5], [2.0, 3.0]])) == ["[   1 −0.5]", "[   2    3]"]
    assert format_number(-1.234567e-5) == "−1.235e−5"


def test_dot_and_text_forms():
    g = _network_graph()
    dot = g.to_dot()
    assert dot.startswith("digraph computation {") and "rankdir=LR" in dot
    assert dot.count("->") == sum(len(n.inputs) for n in g)
    text = str(g)
    assert "dense_0/Z" in text and "categorical_crossentropy" in text and "gradient" in text.splitlines()[1]


def test_save_writes_by_suffix_and_refuses_others(tmp_path):
    g = _network_graph()
    for suffix in ("svg", "dot", "txt"):
        path = g.save(tmp_path / f"graph.{suffix}")
        assert open(path, encoding="utf-8").read().strip()
    with pytest.raises(ValueError, match=r"`path` must end in .svg, .dot, .gv or .txt. Received: path='.*graph.png'"):
        g.save(tmp_path / "graph.png")
    with pytest.raises(FileNotFoundError, match=r"`path` names a folder that does not exist .* Received: path="):
        g.save(tmp_path / "missing" / "graph.svg")
    with pytest.raises(TypeError, match=r"`path` must be a file name \(str or os.PathLike\). Received: path=3"):
        g.save(3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.dot", "graph.svg", "graph.txt"]


def test_the_scalar_example_draws():
    a, b, c = graph.value(2.0, "a"), graph.value(-3.0, "b"), graph.value(10.0, "c")
    f = ((a + b).named("e") * c).named("f")
    f.backward()
    texts = _texts(graph.Graph(f).to_svg())
    assert {"a", "b", "c", "e", "f", "−10", "∂L 10", "∂L −1"} <= set(texts)


def test_inlined_drawings_keep_their_ids_apart():
    g = _network_graph()
    first, second = g.to_svg(id_prefix="one-"), g.to_svg(id_prefix="two-")
    ids = [ET.fromstring(svg.encode()).iter() for svg in (first, second)]
    first_ids, second_ids = ({e.get("id") for e in it if e.get("id")} for it in ids)
    assert first_ids and not first_ids & second_ids
    assert 'url(#one-arrow)' in first and ".refnn-graph .value" in first  # styles scoped to the drawing


def test_the_drawings_in_docs_are_the_current_ones():
    """docs/images shows what refnn draws today (regenerate: python -m refnn.graph.examples docs/images)."""
    images = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "images")
    for name, g in (("graph_scalar.svg", examples.scalar_example()), ("graph_2_3_2.svg", examples.network_example())):
        with open(os.path.join(images, name), encoding="utf-8") as f:
            assert f.read() == g.to_svg(), f"docs/images/{name} is out of date"
