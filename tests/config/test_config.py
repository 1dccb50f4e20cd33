"""Configuration: params.yaml is the composition of conf/, every option composes, and bad
values are refused with one line naming the key and what is allowed."""

import shutil
from pathlib import Path

import pytest
import yaml
from hydra.errors import ConfigCompositionException

from layerwise.config import compose as compose_module
from layerwise.config import load_params, to_config
from layerwise.config.compose import compose, overrides_of
from layerwise.pipeline.errors import UserError

from ..helpers.config import ROOT, compose_config


def test_params_yaml_is_the_composition_of_conf():
    committed = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert committed == compose([], ROOT / "conf"), "params.yaml is stale: run `make params`"


def test_preset_composition_is_kept_until_conf_changes(tmp_path, monkeypatch):
    """Stage headers compare params with the preset; the composed preset is cached on
    disk under the content of conf/, and an edit to conf/ composes it afresh."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    conf = tmp_path / "conf"
    shutil.copytree(ROOT / "conf", conf)
    calls = []
    real = compose_module.compose
    monkeypatch.setattr(compose_module, "compose", lambda *a: calls.append(a) or real(*a))
    params = compose(["experiment=smoke"], conf)
    assert compose_module.preset_params("smoke", conf) == params
    assert compose_module.preset_params("smoke", conf) == params
    assert len(calls) == 1
    assert overrides_of(params, "smoke", conf) == []
    assert len(calls) == 1
    config = conf / "config.yaml"
    config.write_text(config.read_text().replace("seed: 0", "seed: 5"))
    assert overrides_of(params, "smoke", conf) == ["seed=0"]
    assert len(calls) == 2


def _group_options():
    for group in sorted(p for p in (ROOT / "conf").iterdir() if p.is_dir()):
        for option in sorted(group.glob("*.yaml")):
            yield f"{group.name}={option.stem}"


# the book preset's repeats on CIFAR-10 would not fit this machine's memory: refused by the
# estimate, with the key to lower (experiment=cifar10 is the preset made for that data)
REFUSED_ON_BOOK = {"data=cifar10": "needs about"}


@pytest.mark.parametrize("override", list(_group_options()))
def test_every_group_option_composes_and_validates(override):
    if override in REFUSED_ON_BOOK:
        with pytest.raises(UserError, match=REFUSED_ON_BOOK[override]):
            compose_config(override)
        override = ("experiment=smoke", override)
    cfg = compose_config(*([override] if isinstance(override, str) else override))
    assert cfg.data.name in cfg.datasets


def test_data_group_selects_the_dataset():
    assert compose_config("data=digits").data.name == "digits"
    cfg = compose_config("experiment=smoke", "data=cifar10")
    assert cfg.data.name == "cifar10" and cfg.datasets["cifar10"].kind == "cifar10"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("baseline.epochs=abc", "could not be converted to Integer"),
        ("data=huge", "Could not find 'data/huge'"),
        ("optimizer.learning_rate=fast", "could not be converted to Float"),
    ],
)
def test_composition_rejects_bad_overrides(override, message):
    """What `dvc exp run -S ...` runs into: Hydra refuses before anything runs."""
    with pytest.raises(ConfigCompositionException) as info:
        compose([override], ROOT / "conf")
    text = str(info.value) + str(info.value.__cause__ or "")
    assert message in text


def test_each_dataset_entry_holds_only_its_kinds_keys():
    """params.yaml shows per entry the keys its kind reads, kind first, and no others."""
    from layerwise.pipeline.schema import dataset_keys

    for overrides in ([], ["experiment=smoke", "data=cifar10"]):
        for name, entry in compose(overrides, ROOT / "conf")["datasets"].items():
            assert list(entry)[0] == "kind", name
            assert sorted(entry) == sorted(dataset_keys(entry["kind"])), name


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["datasets.blobs.path=x"],
            "datasets.blobs.path: 'path' is a key of csv datasets, not of blobs",
        ),
        (["+datasets.blobs.source=x"], "'source' is a key of cifar10 datasets, not of blobs"),
        (["datasets.blobs.n_samples=abc"], "datasets.blobs.n_samples = 'abc' has the wrong type"),
        (["datasets.blobs.cluster_std=0"], "datasets.blobs.cluster_std = 0.0 is out of range"),
        (
            ["datasets.digits.kind=mnist1d", "datasets.digits.kind=cifar10"],
            "datasets.digits has the keys of a digits or mnist1d dataset but kind = "
            "'cifar10': remove random_state and set source",
        ),
        (
            ["datasets.digits.kind=blobs"],
            "key 'datasets.digits.cluster_std' is missing (allowed: every key of kind blobs:",
        ),
        (["datasets.blob.n_samples=5"], "key 'datasets.blob.kind' is missing"),
    ],
)
def test_a_dataset_key_is_checked_by_its_kind_while_composing(overrides, message):
    """`datasets` is open to new keys in Hydra's schema, so these reach the schema's own
    one-line refusal (the `checked` resolver) rather than Hydra's "not in struct"."""
    with pytest.raises(UserError) as info:
        compose(overrides, ROOT / "conf")
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["baseline.n_replicas=5"], "'baseline.n_replicas' is now called 'baseline.repeats'"),
        (
            ["+greedy.few_labels.n_replicas=5"],
            "'greedy.few_labels.n_replicas' is now called 'greedy.few_labels.repeats'",
        ),
        (["baseline.nope=1"], "unknown key 'baseline.nope' (allowed: repeats, epochs, batch_size)"),
        (["greedy.supervised.epoch=1"], "unknown key 'greedy.supervised.epoch' (allowed: "),
    ],
)
def test_an_unknown_or_renamed_key_is_refused_in_one_line_while_composing(overrides, message):
    """Every section is open to new keys in Hydra's schema, so that an old or mistyped key
    reaches the `checked` resolver, whose one line names the key to use."""
    with pytest.raises(UserError) as info:
        compose(overrides, ROOT / "conf")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_renamed_key_in_a_preset_or_in_params_yaml_names_the_new_one(tmp_path):
    conf = tmp_path / "conf"
    shutil.copytree(ROOT / "conf", conf)
    preset = conf / "experiment" / "mine.yaml"
    preset.write_text(
        "# @package _global_\npreset: mine\ngreedy:\n  unsupervised:\n    n_replicas: 4\n"
    )
    with pytest.raises(UserError, match="'greedy.unsupervised.n_replicas' is now called "):
        compose(["experiment=mine"], conf)
    params = compose([], ROOT / "conf")
    params["baseline"]["n_replicas"] = params["baseline"].pop("repeats")
    with pytest.raises(UserError) as info:
        to_config(params)
    assert str(info.value) == (
        "params.yaml: 'baseline.n_replicas' is now called 'baseline.repeats': rename it"
    )


def test_an_entry_changes_kind_with_its_keys():
    from layerwise.pipeline.schema import BlobsConfig, DigitsConfig

    cfg = compose_config("datasets.digits.kind=blobs", "datasets.digits.cluster_std=1.5")
    assert cfg.datasets["digits"] == BlobsConfig(
        n_samples=1797, n_train=1200, random_state=2, cluster_std=1.5, scale="standard"
    )
    cfg = compose_config("datasets.blobs.kind=digits", "~datasets.blobs.cluster_std")
    assert cfg.datasets["blobs"] == DigitsConfig(
        n_samples=1000, n_train=500, random_state=2, scale="none"
    )


def raw_params():
    return yaml.safe_load((ROOT / "params.yaml").read_text())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda p: p["baseline"].update(epochs="abc"),
            "baseline.epochs = 'abc' has the wrong type (allowed: an integer)",
        ),
        (
            lambda p: p["baseline"].update(nope=1),
            "unknown key 'baseline.nope' (allowed: repeats, epochs, batch_size)",
        ),
        (
            lambda p: p["baseline"].update(repeats=0),
            "baseline.repeats = 0 is out of range (allowed: a number >= 1)",
        ),
        (
            lambda p: p["baseline"].update(epochs=-3),
            "baseline.epochs = -3 is out of range (allowed: a number >= 1)",
        ),
        (
            lambda p: p["model"].update(hidden_units=[10, -2]),
            "model.hidden_units[1] = -2 is out of range",
        ),
        (lambda p: p["model"].update(hidden_units=[]), "model.hidden_units is empty"),
        (
            lambda p: p["model"].update(activation="gelu"),
            "model.activation = 'gelu' is not allowed (allowed: relu, sigmoid, tanh, linear)",
        ),
        (
            lambda p: p["data"].update(name="imagenet"),
            "data.name = 'imagenet' is not a dataset (allowed: blobs, ",
        ),
        (
            lambda p: p["datasets"]["blobs"].update(kind="iris"),
            "datasets.blobs.kind = 'iris' is not allowed "
            "(allowed: blobs, digits, mnist1d, cifar10, csv)",
        ),
        (
            lambda p: p["datasets"]["blobs"].update(n_train=1000),
            "datasets.blobs.n_train = 1000 leaves no test rows",
        ),
        (
            lambda p: p["optimizer"].update(learning_rate=0),
            "optimizer.learning_rate = 0.0 is out of range (allowed: a number > 0.0)",
        ),
        # Adam's bias correction divides by 1 - beta_1^t: the engine's range, refused here first
        (
            lambda p: p["optimizer"].update(beta_1=1.0),
            "optimizer.beta_1 = 1.0 is out of range (allowed: a number >= 0.0 and < 1.0)",
        ),
        # no float key may be NaN or infinite, whether or not it has a range
        (
            lambda p: p["optimizer"].update(learning_rate=float("nan")),
            "optimizer.learning_rate = nan is not a finite number",
        ),
        (
            lambda p: p["optimizer"].update(learning_rate=float("inf")),
            "optimizer.learning_rate = inf is not a finite number",
        ),
        (
            lambda p: p["ensembles"]["weighted_average"].update(de_tol=float("-inf")),
            "ensembles.weighted_average.de_tol = -inf is not a finite number",
        ),
        # params.yaml is a composition: a key it lacks is damage, not a request for the
        # schema's full-size default
        (
            lambda p: p["baseline"].pop("repeats"),
            "key 'baseline.repeats' is missing (allowed: every key of the schema",
        ),
        (
            lambda p: p["datasets"]["digits"].pop("scale"),
            "key 'datasets.digits.scale' is missing",
        ),
        # each dataset kind has its own keys, and only those
        (
            lambda p: p["datasets"]["blobs"].update(path="mine.csv"),
            "datasets.blobs.path: 'path' is a key of csv datasets, not of blobs "
            "(allowed: kind, n_samples, n_train, random_state, cluster_std, scale)",
        ),
        (
            lambda p: p["datasets"]["digits"].update(cluster_std=1.0, source=""),
            "datasets.digits.cluster_std: 'cluster_std' is a key of blobs datasets, not of "
            "digits (allowed: kind, n_samples, n_train, random_state, scale)",
        ),
        (
            lambda p: p["datasets"]["digits"].update(source=""),
            "'source' is a key of cifar10 datasets, not of digits",
        ),
        (
            lambda p: p["datasets"]["blobs"].update(nope=1),
            "unknown key 'datasets.blobs.nope' (allowed: kind, n_samples, n_train, "
            "random_state, cluster_std, scale)",
        ),
        (
            lambda p: p["datasets"]["blobs"].update(n_samples="many"),
            "datasets.blobs.n_samples = 'many' has the wrong type (allowed: an integer)",
        ),
        (
            lambda p: p["datasets"]["blobs"].pop("cluster_std"),
            "key 'datasets.blobs.cluster_std' is missing (allowed: every key of kind blobs: "
            "kind, n_samples, n_train, random_state, cluster_std, scale)",
        ),
        (
            lambda p: p["datasets"]["blobs"].pop("kind"),
            "key 'datasets.blobs.kind' is missing (allowed: blobs, digits, mnist1d, cifar10, "
            "csv, with that kind's keys",
        ),
        (
            lambda p: p["datasets"].update(extra=3),
            "datasets.extra = 3 is not a mapping",
        ),
        # a kind changed without its keys: the entry's keys are the old kind's
        (
            lambda p: p["datasets"]["blobs"].update(kind="digits"),
            "datasets.blobs has the keys of a blobs dataset but kind = 'digits': remove "
            "cluster_std (allowed: every key of kind digits: kind, n_samples, n_train, "
            "random_state, scale)",
        ),
        (
            lambda p: p["datasets"]["csv"].update(kind="blobs"),
            "datasets.csv.kind = 'blobs' is not allowed (allowed: csv;",
        ),
        (lambda p: p.pop("greedy"), "key 'greedy' is missing"),
        # a validation split of every row leaves none to train on
        (
            lambda p: p["ensembles"]["stacking"].update(validation_fraction=1.0),
            "ensembles.stacking.validation_fraction = 1.0 is out of range "
            "(allowed: a number > 0.0 and < 1.0)",
        ),
        # seeds: what NumPy and scikit-learn accept (32 bits, not negative)
        (
            lambda p: p["datasets"]["blobs"].update(random_state=-1),
            "datasets.blobs.random_state = -1 is out of range (allowed: a number from 0 to "
            "4294967295)",
        ),
        (
            lambda p: p["datasets"]["blobs"].update(random_state=5_000_000_000),
            "datasets.blobs.random_state = 5000000000 is out of range",
        ),
        (lambda p: p.update(seed=2**32), "seed = 4294967296 is out of range"),
    ],
)
def test_hand_edited_params_fail_with_one_clear_line(edit, message):
    params = raw_params()
    edit(params)
    with pytest.raises(UserError) as info:
        to_config(params, data_root=ROOT)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith("params.yaml: ")
    assert message in text


def test_load_params_file_errors(tmp_path):
    with pytest.raises(UserError, match="nothere.yaml: file not found"):
        load_params(tmp_path / "nothere.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("baseline: [unclosed\n")
    with pytest.raises(UserError, match="bad.yaml: not valid YAML"):
        load_params(bad)


def test_presets_differ_only_where_they_say(book_cfg, smoke_cfg):
    assert book_cfg.preset == "book" and smoke_cfg.preset == "smoke"
    assert (book_cfg.baseline.repeats, book_cfg.baseline.epochs) == (30, 100)
    assert smoke_cfg.baseline.epochs < book_cfg.baseline.epochs


def test_conf_has_no_machine_specific_interpolations():
    for path in Path(ROOT / "conf").rglob("*.yaml"):
        text = path.read_text()
        assert "${hydra:" not in text and "${oc.env:" not in text, path


def _table_rows(text: str, heading: str) -> list[list[str]]:
    """The cells of the first markdown table after `heading`, header row and rule left out."""
    after = text[text.index(heading) :].splitlines()
    start = next(i for i, line in enumerate(after) if line.startswith("|"))
    rows = []
    for line in after[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_docs_list_each_dataset_kinds_keys():
    """README's table of datasets.csv and docs/studies.md's table of kinds name the keys the
    schema has, no more, no fewer."""
    import re

    from layerwise.pipeline.schema import DATASET_KINDS, dataset_keys

    def keys(cell: str) -> set[str]:
        return set(re.findall(r"`([a-z_]+)`", re.sub(r"\([^)]*\)", "", cell)))

    readme = (ROOT / "README.md").read_text()
    documented = set().union(*(keys(r[0]) for r in _table_rows(readme, "### Your own data")))
    assert documented == set(dataset_keys("csv")) - {"kind"}
    studies = (ROOT / "docs/studies.md").read_text()
    rows = _table_rows(studies, "| kind | keys besides `kind` |")
    assert [r[0].strip("`") for r in rows] == list(DATASET_KINDS)
    for row in rows:
        assert keys(row[1]) == set(dataset_keys(row[0].strip("`"))) - {"kind"}, row[0]
