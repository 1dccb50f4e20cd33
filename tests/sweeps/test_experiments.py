"""Reading an experiment's claims file from the local DVC cache."""

import pytest

from layerwise.sweeps.experiments import Experiment, NotInCacheError, from_states, read_detail

from ..helpers.sweeps import FakeExperiment, states


def experiment(detail_file):
    return Experiment("e", "r" * 40, "b" * 40, "success", {}, "0" * 32, detail_file)


def test_the_claims_file_is_read_where_the_cache_keeps_it(tmp_path):
    cached = tmp_path / "00" / "hash"
    cached.parent.mkdir()
    cached.write_text('{"version": 1}')
    assert read_detail(tmp_path, experiment(str(cached))) == '{"version": 1}'


def test_a_claims_file_missing_from_the_cache_says_so(tmp_path):
    with pytest.raises(NotInCacheError):
        read_detail(tmp_path, experiment(str(tmp_path / "00" / "gone")))


def test_the_hash_comes_from_the_experiment_s_outputs():
    (made, queued) = from_states(
        states(
            [
                FakeExperiment("made", {}, {"version": 1}),
                FakeExperiment("waiting", {}, None, state="queued"),
            ]
        )
    )
    assert made.detail_hash == "0" * 32 and made.detail_recorded
    assert queued.detail_hash is None and not queued.detail_recorded
    assert made.detail_file is None  # collect() places it in the cache it opens
