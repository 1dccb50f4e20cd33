"""The stage graph cannot go stale: every file a stage runs or reads is one of its DVC
dependencies, the report trains nothing, and imports flow one way with no cycle."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .helpers.commands import ROOT, covered, resolved_stages
from .helpers.imports import (
    SRC,
    closure,
    imports_of,
    module_file,
    module_name,
    project_modules,
)
from .helpers.stage_reads import data_files_read

# each layer may import only the layers listed (and itself); the composition root
# (layerwise.stage, layerwise.report, layerwise.claims) may import anything
LAYERS = {
    "layerwise.engine": set(),
    "layerwise.pipeline": {"layerwise.engine"},
    "layerwise.reporting": {"layerwise.pipeline"},
    "layerwise.config": {"layerwise.pipeline"},
    "layerwise.studies": {
        "layerwise.engine",
        "layerwise.pipeline",
        "layerwise.reporting",
        "layerwise.config",
    },
}


@pytest.fixture(scope="module")
def stages(tmp_path_factory):
    """Every stage as DVC resolves it (foreach expanded, ${...} interpolated)."""
    resolved = resolved_stages(tmp_path_factory.mktemp("resolved"))
    return [(name, cmd, deps) for name, (cmd, deps) in resolved.items()]


def script_of(cmd: str) -> Path:
    return ROOT / cmd.split()[1]


def test_every_stage_depends_on_every_file_it_runs(stages):
    missing = {}
    for name, cmd, deps in stages:
        script = script_of(cmd)
        files = {script} | closure(script)
        rels = (p.relative_to(ROOT).as_posix() for p in files)
        lost = sorted(rel for rel in rels if not covered(rel, deps))
        if lost:
            missing[name] = lost
    assert not missing, f"stages run files they do not depend on: {missing}"


def test_code_dependencies_are_folders_and_entry_points(stages):
    """A stage depends on whole packages (engine, pipeline, config, its study), not on a
    hand-kept list of modules: only the stage runner, the report and package markers are
    named one by one."""
    allowed_files = {
        "src/layerwise/__init__.py",
        "src/layerwise/stage.py",
        "src/layerwise/report.py",
        "src/layerwise/claims.py",
        "src/layerwise/studies/__init__.py",
    }
    for name, _cmd, deps in stages:
        for dep in deps:
            if dep.startswith("src/") and dep.endswith(".py"):
                assert dep in allowed_files, f"{name}: names the module {dep}"


def test_only_the_report_and_the_own_study_are_study_dependencies(stages):
    """An edit to one study reruns that study's stages, the claims and the report, nothing
    else."""
    for name, _cmd, deps in stages:
        studies = {d for d in deps if d.startswith("src/layerwise/studies/")}
        if name in ("report", "claims"):
            continue
        study = {
            "baseline": "baseline",
            "data": None,
            "check": None,
            "transfer": "transfer",
            "ensemble": "ensembles",
            "greedy": "greedy",
        }[name.split("_")[0].split("@")[0]]
        expected = {f"src/layerwise/studies/{study}", "src/layerwise/studies/__init__.py"}
        assert studies == (expected if study else set()), (name, studies)


# every study on the user's table, with the example file the default points at
ON_CSV = (
    "data=csv",
    "ensembles.compare.dataset=csv",
    "ensembles.snapshot.dataset=csv",
    "greedy.few_labels.datasets=[blobs,csv]",
)


@pytest.mark.parametrize(
    "overrides",
    [("experiment=book",), ("experiment=smoke",), ("experiment=smoke", *ON_CSV)],
    ids=["book", "smoke", "smoke-csv"],
)
def test_every_data_file_a_stage_opens_is_a_dependency(overrides, tmp_path):
    """Run each stage's own rule for the files it reads against the resolved deps of the
    stage graph composed with those overrides."""
    from layerwise.config import to_config
    from layerwise.config.compose import compose, dump

    preset = " ".join(overrides)
    params = compose(list(overrides), ROOT / "conf")
    cfg = to_config(params, preset, ROOT)
    # resolve dvc.yaml against this preset's params
    resolved = {name: deps for name, (_, deps) in resolved_stages(tmp_path, dump(params)).items()}
    reads = data_files_read(cfg)
    for stage, files in reads.items():
        assert stage in resolved, f"{stage} is not a stage under {preset}"
        lost = sorted(f for f in files if f not in resolved[stage])
        assert not lost, f"{preset}: {stage} reads {lost} without depending on them"


@pytest.mark.parametrize("stage", ["report", "claims"])
def test_stages_that_train_nothing_import_no_tensorflow(stage):
    """The report and the claims read results; they train nothing, so importing their stage
    must not pay for TensorFlow (tests/e2e/test_stage_reads.py checks the imports of a whole
    real run)."""
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['stages/{stage}.py', '--help']\n"
        "try:\n"
        f"    runpy.run_path('stages/{stage}.py', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"import layerwise.{stage}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "print('TF:' + '|'.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    line = [x for x in result.stdout.splitlines() if x.startswith("TF:")][-1]
    assert line == "TF:", f"the {stage} stage imports {line[:200]}"


@pytest.mark.parametrize("stage", ["report", "claims"])
def test_closures_of_stages_that_train_nothing_have_no_engine(stage):
    files = closure(ROOT / f"stages/{stage}.py")
    engine = [p for p in files if "engine" in p.relative_to(SRC).parts]
    assert not engine, f"the {stage} stage reaches the engine: {engine}"


def layer_of(name: str) -> str | None:
    for layer in LAYERS:
        if name == layer or name.startswith(layer + "."):
            return layer
    return None


def test_imports_flow_one_way():
    wrong = []
    for path in project_modules():
        name = module_name(path)
        mine = layer_of(name)
        if mine is None:  # the composition root
            continue
        for target in imports_of(path):
            theirs = layer_of(target)
            if theirs is None and target != "layerwise":
                wrong.append(f"{name} -> {target} (the composition root)")
            elif theirs not in (None, mine) and theirs not in LAYERS[mine]:
                wrong.append(f"{name} -> {target}")
    assert not wrong, "imports against the layering: " + "; ".join(wrong)


def test_studies_do_not_import_each_other():
    wrong = []
    for path in project_modules():
        name = module_name(path)
        if not name.startswith("layerwise.studies."):
            continue
        study = name.split(".")[2]
        for target in imports_of(path):
            if target.startswith("layerwise.studies.") and target.split(".")[2] != study:
                wrong.append(f"{name} -> {target}")
    assert not wrong, wrong


def test_no_import_cycle():
    """No cycle among the modules' import-time imports (function-level imports included
    too: a lazy import that closes a cycle is a cycle patched, not removed)."""
    graph = {module_name(p): imports_of(p) for p in project_modules()}
    # a package's __init__ is imported before its modules: not an edge back
    for name, targets in graph.items():
        graph[name] = {t for t in targets if t != name and not name.startswith(t + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if state.get(nxt) is None and nxt in graph:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if state.get(node) is None:
            visit(node)


def test_the_import_scanner_sees_lazy_and_package_imports(tmp_path):
    """The closure check is only as good as the scanner: it must see imports inside
    functions and `from package import module`."""
    script = tmp_path / "s.py"
    script.write_text(
        "def main():\n"
        "    from layerwise.studies.greedy import common\n"
        "from layerwise import stage\n"
    )
    found = {p.relative_to(SRC).as_posix() for p in closure(script)}
    assert "layerwise/studies/greedy/common.py" in found
    assert "layerwise/studies/greedy/__init__.py" in found
    assert "layerwise/stage.py" in found
    assert module_file("layerwise.engine") is not None
