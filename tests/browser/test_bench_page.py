"""The bench's page (``refnn-compare bench --scaling``: ``<out>/bench/index.html``) in a real
browser, from a tiny sweep: it loads with no console error and every figure is embedded and renders
at a readable size."""

from __future__ import annotations

from comparisons.bench import scaling
from comparisons.bench.report import write_page

#: as for the main report: narrower than this on a 1400-pixel window is too small to project
NARROWEST_FIGURE_PX = 500


def test_the_bench_page_renders_its_embedded_figures(chromium, tmp_path):
    spec = scaling.ScalingSpec(n_rows=64, n_features=8, batch_sizes=[1, 4, 16], fixed_width=8, widths=[8, 16, 32],
                               fixed_batch=16, epochs=2, batch_fits={"small B": (1, 4), "large B": (4, 16)},
                               width_fit=(8, 32))
    sweep = scaling.run_scaling(spec, ["gemm_floor", "refnn"], log=lambda *a, **k: None)
    page = chromium.open(write_page(str(tmp_path), sweep)["html"], width=1400, height=1000)
    assert page.problems() == []
    assert len(page.images) == 2
    assert all(image.src.startswith("data:image/svg+xml;base64,") for image in page.images)
    assert all(image.natural_width > 0 and image.natural_height > 0 for image in page.images)
    shown = chromium.driver.execute_script(
        "return Array.from(document.images, img => img.getBoundingClientRect().width);")
    assert min(shown) >= NARROWEST_FIGURE_PX, shown
