"""Compose conf/ into params.yaml the way `dvc exp run` does (for `dvc repro` users and tests).

python -m layerwise.config.compose                  # rewrite params.yaml from conf/
python -m layerwise.config.compose experiment=smoke # with overrides
python -m layerwise.config.compose --check          # exit 1 if params.yaml is stale
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

import yaml

from layerwise.config import CHECK_DATA_ROOT, register_schema
from layerwise.pipeline.errors import UserError
from layerwise.pipeline.io import atomic_path


def compose(
    overrides: list[str] = (), conf_dir: str | Path = "conf", data_root: str | Path | None = None
) -> dict:
    """conf/ composed with `overrides`, checked against the schema as `dvc exp run` checks
    it (the `checked` key's resolver); a csv dataset's file is read under `data_root`, or
    not at all with None (as under `dvc exp run`)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from omegaconf import OmegaConf
    from omegaconf.errors import InterpolationResolutionError

    register_schema()
    token = CHECK_DATA_ROOT.set(None if data_root is None else Path(data_root))
    try:
        with initialize_config_dir(config_dir=str(Path(conf_dir).resolve()), version_base=None):
            cfg = hydra_compose(config_name="config", overrides=list(overrides))
        return OmegaConf.to_container(cfg, resolve=True)
    except InterpolationResolutionError as err:  # the `checked` key's schema checks
        cause = err.__cause__ or err.__context__
        while cause is not None and not isinstance(cause, UserError):
            cause = cause.__cause__ or cause.__context__
        if cause is None:
            raise
        raise cause from None
    finally:
        CHECK_DATA_ROOT.reset(token)


def compose_checked(overrides: list[str] = (), conf_dir: str | Path = "conf") -> dict:
    """`compose` and every check of the schema: what `dvc exp run -S ...` would write to
    params.yaml, or one UserError line saying what is wrong (Hydra's own composition
    errors, such as an unknown key or group option, included)."""
    try:
        # every check, the csv dataset's file read too, before anything is written
        params = compose(overrides, conf_dir, data_root=".")
    except UserError:
        raise
    except Exception as err:  # Hydra's composition errors; the cause says what is wrong
        cause = err.__cause__ or err.__context__
        detail = f": {str(cause).splitlines()[0]}" if cause is not None else ""
        raise UserError(f"{str(err).splitlines()[0]}{detail}") from err
    return params


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "layerwise" / "presets"


def preset_params(preset: str, conf_dir: str | Path = "conf") -> dict:
    """`compose(["experiment=<preset>"])`, kept on disk under the content it depends on.

    Every stage header names its overrides against the preset, and composing costs about
    a second (importing Hydra, then composing), so the result is stored in the user's
    cache directory, keyed by the bytes of every file in conf/, the schema's sources and
    the Hydra version: any edit there composes afresh. An unwritable cache only costs time.
    """
    from importlib import metadata

    from layerwise import config

    conf_dir = Path(conf_dir)
    key = hashlib.sha256(f"{preset}\0{metadata.version('hydra-core')}\0".encode())
    for path in sorted(p for p in conf_dir.rglob("*") if p.is_file()):
        key.update(f"{path.relative_to(conf_dir).as_posix()}\0".encode())
        key.update(path.read_bytes())
    for source in config.schema_sources():
        key.update(source.read_bytes())
    cached = _cache_dir() / f"{key.hexdigest()}.json"
    try:
        return json.loads(cached.read_text())
    except (OSError, ValueError):
        pass
    params = compose([f"experiment={preset}"], conf_dir)
    try:
        with atomic_path(cached) as tmp:
            tmp.write_text(json.dumps(params))
    except OSError:
        pass
    return params


def overrides_of(params: dict, preset: str, conf_dir: str | Path = "conf") -> list[str]:
    """`key=value` for every key where `params` differ from `preset` as conf/ composes it."""
    expected = _flat(preset_params(preset, conf_dir))
    return [f"{k}={v}" for k, v in _flat(params).items() if expected.get(k, object()) != v]


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def dump(params: dict) -> str:
    return yaml.safe_dump(params, sort_keys=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m layerwise.config.compose",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. baseline.epochs=50")
    parser.add_argument("--check", action="store_true", help="only check params.yaml is current")
    parser.add_argument("--output", default="params.yaml")
    args = parser.parse_args(argv)
    try:
        params = compose_checked(args.overrides)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = Path(args.output)
    if args.check:
        current = yaml.safe_load(out.read_text()) if out.is_file() else None
        if current != params:
            print(f"{out} differs from conf/: run `make params`", file=sys.stderr)
            return 1
        print(f"{out} is current")
        return 0
    with atomic_path(out) as tmp:
        tmp.write_text(dump(params))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
