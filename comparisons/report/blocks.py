"""The building blocks a study returns: paragraphs, ``Heading``, ``Table``, ``Plot`` for the
reader, and three kinds of summary rows — ``Check`` (an agreement, measured), ``Difference``
(a teaching difference, textbook against Keras) and ``Finding`` (refnn alone on a published
problem) — gathered in a ``Section``; the ``Report`` is the list of sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

__all__ = ["Series", "Panel", "Plot", "Figure", "Svg", "Formula", "Table", "Heading", "Check", "Difference", "Finding",
           "Section", "Report", "KERAS", "PORT", "SELF", "STATS", "CHECK_KINDS", "LESSON", "EVIDENCE"]


@dataclass
class Series:
    """One curve (or one group of bars): ``style`` is a matplotlib format string (``"o--"``).

    The lessons draw refnn solid (``"-"``) and Keras dotted (``":"``) in one ``color``, so that a
    pair of curves reads as one run in two frameworks.
    """

    label: str
    x: list
    y: list
    style: str = "-"
    color: str | None = None


@dataclass
class Panel:
    """One set of axes. ``kind="bar"``: each series is a group of bars over the categories ``x``
    (every series must share them)."""

    title: str
    xlabel: str
    ylabel: str
    series: list[Series]
    xscale: str = "linear"
    yscale: str = "linear"
    kind: str = "line"
    hlines: list[tuple[float, str]] = field(default_factory=list)
    #: vertical markers ``(x, label)``, e.g. the best epoch of early stopping
    vlines: list[tuple[float, str]] = field(default_factory=list)


@dataclass
class Plot:
    """A figure of one or more panels side by side, saved as ``<name>.svg`` (and embedded in the
    page)."""

    name: str
    caption: str
    panels: list[Panel]


@dataclass
class Figure:
    """A figure drawn by ``draw(fig)`` on a ``matplotlib.figure.Figure`` of ``size`` inches —
    for what ``Panel`` cannot say (contours, heatmaps, histograms). Saved as ``<name>.svg``."""

    name: str
    caption: str
    draw: Callable
    size: tuple[float, float] = (10.0, 4.0)


@dataclass
class Svg:
    """A picture already drawn as SVG text (e.g. ``refnn.graph``'s computation graphs); saved as
    ``<name>.svg`` and embedded in the page like the figures."""

    name: str
    caption: str
    svg: str


@dataclass
class Formula:
    """A displayed equation, in plain Unicode (``W ← W − η ∂E/∂W``), set apart from the text."""

    text: str


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Heading:
    text: str


#: what a ``Check`` compares refnn with
KERAS = "keras"  # Keras/TensorFlow computing the same thing live: an independent check
PORT = "port"    # refnn's own Keras port (keras_bridge.plugins): consistency, not independence
SELF = "refnn"   # refnn alone, against finite differences or a formula
STATS = "statistics"  # Keras live, but each side draws its own random numbers (dropout masks): the
#                       means over seeds agree statistically; error = |Δ mean| / (critical t · SE), tolerance 1
CHECK_KINDS = (KERAS, STATS, PORT, SELF)


@dataclass
class Check:
    """A measured agreement: ``errors = {"float64": max rel error or None, "float32": ...}``.

    ``kind`` says what the other side is (``KERAS``, ``STATS``, ``PORT`` or ``SELF``); the report lists the
    kinds apart, so that refnn against its own Keras port is never read as an independent check.
    """

    what: str
    errors: dict[str, float | None]
    tolerance: dict[str, float]
    note: str = ""
    kind: str = KERAS

    @property
    def passed(self) -> bool | None:
        """``None`` when nothing was measured; otherwise every measured error within tolerance
        (NaN fails)."""
        measured = {k: v for k, v in self.errors.items() if v is not None}
        if not measured:
            return None
        return all(v <= self.tolerance[k] for k, v in measured.items())


@dataclass
class Difference:
    """Textbook vs Keras: ``size`` for people, ``value`` the headline number."""

    what: str
    size: str
    value: float


@dataclass
class Finding:
    """refnn alone on a published problem: what was measured, and the published number."""

    what: str
    measured: str
    published: str


#: what a ``Section`` is: a lesson (concepts first in the page) or parity evidence (the appendix)
LESSON = "lesson"
EVIDENCE = "evidence"


@dataclass
class Section:
    """One study's output. ``data`` holds its raw numbers (JSON-serialisable, for tests and
    ``report.json``); ``part`` is ``LESSON`` or ``EVIDENCE``."""

    key: str
    title: str
    blocks: list = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    seconds: float = 0.0
    part: str = EVIDENCE

    def add(self, *blocks) -> None:
        self.blocks.extend(blocks)

    @property
    def plots(self) -> list[Plot | Figure | Svg]:
        """The section's pictures: ``Plot``, ``Figure`` and ``Svg`` alike."""
        return [b for b in self.blocks if isinstance(b, (Plot, Figure, Svg))]


@dataclass
class Report:
    title: str
    sections: list[Section]
    meta: dict = field(default_factory=dict)

    @property
    def checks(self) -> list[Check]:
        return [c for s in self.sections for c in s.checks]

    @property
    def differences(self) -> list[Difference]:
        return [d for s in self.sections for d in s.differences]

    @property
    def findings(self) -> list[Finding]:
        return [f for s in self.sections for f in s.findings]

    @property
    def passed(self) -> bool:
        """No measured comparison failed (unmeasured ones are listed, not failures)."""
        return all(c.passed is not False for c in self.checks)
