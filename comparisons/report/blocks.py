"""The building blocks a study returns: paragraphs, ``Heading``, ``Table``, ``Plot`` for the
reader, and three kinds of summary rows — ``Check`` (an agreement, measured), ``Difference``
(a teaching difference, textbook against Keras) and ``Finding`` (refnn alone on a published
problem) — gathered in a ``Section``; the ``Report`` is the list of sections."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Series", "Panel", "Plot", "Table", "Heading", "Check", "Difference", "Finding", "Section",
           "Report", "KERAS", "PORT", "SELF", "CHECK_KINDS"]


@dataclass
class Series:
    """One curve (or one group of bars): ``style`` is a matplotlib format string (``"o--"``)."""

    label: str
    x: list
    y: list
    style: str = "-"


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


@dataclass
class Plot:
    """A figure of one or more panels side by side, saved as ``<name>.png``."""

    name: str
    caption: str
    panels: list[Panel]


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
CHECK_KINDS = (KERAS, PORT, SELF)


@dataclass
class Check:
    """A measured agreement: ``errors = {"float64": max rel error or None, "float32": ...}``.

    ``kind`` says what the other side is (``KERAS``, ``PORT`` or ``SELF``); the report lists the
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


@dataclass
class Section:
    """One study's output. ``data`` holds its raw numbers (JSON-serialisable, for tests and
    ``report.json``)."""

    key: str
    title: str
    blocks: list = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, *blocks) -> None:
        self.blocks.extend(blocks)

    @property
    def plots(self) -> list[Plot]:
        return [b for b in self.blocks if isinstance(b, Plot)]


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
