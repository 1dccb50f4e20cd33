"""Shared fixtures: the real conf/ composed small and datasets built in memory.
Helper functions live in tests/helpers/ (import them from there, not from here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .helpers.config import compose_config

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

E2E = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(items):
    """The end-to-end tests last: quick failures first, and the shared smoke run (started
    in the background when collection ends, see tests/e2e/conftest.py) goes on meanwhile."""
    items.sort(key=lambda item: Path(item.path).is_relative_to(E2E))


@pytest.fixture(scope="session")
def smoke_cfg():
    return compose_config("experiment=smoke")


@pytest.fixture(scope="session")
def book_cfg():
    return compose_config()


@pytest.fixture(scope="session")
def datasets(smoke_cfg):
    """Every dataset of the smoke configuration, built once per test session."""
    from layerwise.pipeline import data

    from .helpers.commands import ROOT

    return {name: data.build(spec, ROOT) for name, spec in smoke_cfg.datasets.items()}
