"""The published numbers every study sets beside ours, and the one rule that reads them."""

from __future__ import annotations

import importlib

import pytest

from layerwise.pipeline.stats import Published

STUDIES = ("baseline", "greedy", "transfer", "ensembles")


def _numbers(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _numbers(value)
    elif isinstance(node, tuple):
        for value in node:
            yield from _numbers(value)
    else:
        yield node


@pytest.mark.parametrize("study", STUDIES)
def test_every_published_number_keeps_what_was_printed(study):
    module = importlib.import_module(f"layerwise.studies.{study}.published")
    tables = [v for k, v in vars(module).items() if k.isupper()]
    numbers = [x for table in tables for x in _numbers(table)]
    assert numbers and all(isinstance(x, Published) for x in numbers)
    assert all(x.decimals == 3 and f"{x:.3f}" == x.text for x in numbers)  # as printed


def test_the_hand_written_checks_use_the_printed_precision():
    from layerwise.pipeline.claims import AGREE, Claim
    from layerwise.pipeline.effects import mean_vs_published
    from layerwise.reporting.markdown import within as _inside

    def agrees(mean: str, ours) -> bool:
        effect = mean_vs_published(
            ours, Published(mean), Published("0.000"), 30, metric="test_accuracy"
        )
        return (
            Claim("t.x", "", "a", "b", "test_accuracy", effect, direction=AGREE).verdict == "holds"
        )

    book = (Published("0.802"), Published("0.814"))  # a range over the book's runs
    assert _inside(book, {"min": 0.8144, "max": 0.83}) == "yes"  # 0.814 reaches 0.8145
    assert _inside(book, {"min": 0.8146, "max": 0.83}) == "**no**"
    assert _inside(Published("0.850"), {"min": 0.80, "max": 0.849}) == "**no**"
    assert _inside(None, {"min": 0.8, "max": 0.9}) == "–"
    ours = [0.8174] * 5  # a published mean against ours: the claims' comparison
    assert agrees("0.817", ours)  # 0.8165..0.8175 meets 0.8174
    assert not agrees("0.816", ours)
