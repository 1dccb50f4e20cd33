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
    from layerwise.studies.ensembles.report import _inside
    from layerwise.studies.transfer.report import _mean_in_ci

    book = (Published("0.802"), Published("0.814"))  # a range over the book's runs
    assert _inside(book, {"min": 0.8144, "max": 0.83}) == "yes"  # 0.814 reaches 0.8145
    assert _inside(book, {"min": 0.8146, "max": 0.83}) == "**no**"
    assert _inside(Published("0.850"), {"min": 0.80, "max": 0.849}) == "**no**"
    assert _inside(None, {"min": 0.8, "max": 0.9}) == "–"
    ours = {"ci_low": 0.8174, "ci_high": 0.83}
    assert _mean_in_ci(Published("0.817"), ours)  # 0.8165..0.8175 meets 0.8174..
    assert not _mean_in_ci(Published("0.816"), ours)
