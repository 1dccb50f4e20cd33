"""Running the project's commands from tests: subprocesses with this interpreter's
environment, a script in the test's own process, copies of the repository (fresh, or of a
finished run), editing params.yaml, and reading DVC's output."""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DVC = [sys.executable, "-m", "dvc"]


def command_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """os.environ, with this interpreter's bin/ first on PATH: dvc.yaml's `python stages/...`
    must be the venv's python however pytest was started (`make test` puts .venv/bin on
    PATH; `.venv/bin/python -m pytest` alone does not)."""
    env = {**os.environ, **(extra or {})}
    env["PATH"] = os.pathsep.join(
        p for p in (str(Path(sys.executable).parent), env.get("PATH", "")) if p
    )
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("DVC_NO_ANALYTICS", "1")
    return env


def run(cmd, cwd, check=True, env=None):
    """Run a command; return the CompletedProcess (text output)."""
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=command_env(env))
    if check and result.returncode != 0:
        raise AssertionError(
            f"{cmd} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def run_script_here(repo: Path, argv: tuple[str, ...], monkeypatch) -> int:
    """`python <argv>` in `repo`, run in this process (seconds of start-up saved: the
    script, its argv and its working directory are the same), undone by `monkeypatch`:
    the exit code its SystemExit carries. A stage that ends normally leaves through
    os._exit, which here raises instead of ending the test's process; any other exception
    propagates, as a traceback would end the script. What it prints goes to this process's
    stdout and stderr (capsys reads it)."""

    def leave(code):
        raise SystemExit(code)

    monkeypatch.chdir(repo)
    monkeypatch.setattr(sys, "argv", list(argv))
    monkeypatch.setattr(os, "_exit", leave)
    try:
        runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as end:
        return end.code if isinstance(end.code, int) else 1
    return 0


def copy_tree(dest: Path) -> Path:
    """The project's files as git sees them (tracked and untracked, not ignored: no
    outputs, no dvc.lock) copied into `dest`."""
    files = run(["git", "ls-files", "-co", "--exclude-standard"], ROOT).stdout.splitlines()
    for rel in files:
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    (dest / "dvc.lock").unlink(missing_ok=True)
    return dest


def stage_folder(dest: Path, *stages: str) -> Path:
    """The least a stage script needs to start in `dest` (not in the checkout, whose
    output folders a stage cleans of temporary files): the scripts stages/<name>.py,
    params.yaml and conf/ (the header compares with the preset)."""
    for name in stages:
        (dest / "stages").mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / "stages" / f"{name}.py", dest / "stages" / f"{name}.py")
    shutil.copy2(ROOT / "params.yaml", dest / "params.yaml")
    shutil.copytree(ROOT / "conf", dest / "conf")
    return dest


def copy_repo(dest: Path) -> Path:
    """A fresh git + DVC repository holding the project's files (no outputs, no lock)."""
    copy_tree(dest)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    run(["git", "init", "-q"], dest)
    run([*git, "add", "-A"], dest)
    run([*git, "commit", "-qm", "copy"], dest)
    return dest


# files that DVC writes once and never changes in place (a new one is written aside and
# renamed over, or the file is removed): safe to share between copies. Not git's objects:
# git "freshens" an object it writes again by setting its mtime, which a hard link shares
SHARED_BY_LINK = (".dvc/cache/",)


def copy_run(src: Path, dest: Path) -> Path:
    """A private copy of a repository `src` (workspace, git, DVC cache, experiments) at
    `dest`, in a fraction of a second: the files of DVC's cache are hard links
    (SHARED_BY_LINK), every other file a copy of its own, so that nothing done in the
    copy changes `src`."""

    def link_or_copy(from_path: str, to_path: str) -> str:
        rel = Path(from_path).relative_to(src).as_posix()
        if rel.startswith(SHARED_BY_LINK):
            try:
                os.link(from_path, to_path)
                return to_path
            except OSError:  # another file system: a copy does as well
                pass
        return shutil.copy2(from_path, to_path)

    return Path(shutil.copytree(src, dest, symlinks=True, copy_function=link_or_copy))


def edit_params(repo: Path, edit) -> None:
    """Change params.yaml of `repo` by hand: `edit(params)` on the parsed mapping."""
    params = yaml.safe_load((repo / "params.yaml").read_text())
    edit(params)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def resolved_stages(folder: Path, params: str | None = None) -> dict[str, tuple[str, list[str]]]:
    """Every stage of the checkout's dvc.yaml as DVC resolves it (foreach expanded, ${...}
    interpolated from `params`, the text of a params.yaml: the checkout's by default):
    name -> (command, its deps as written). DVC reads a copy of the two files in `folder`,
    which also gets the state DVC writes (.dvc/tmp), not the checkout."""
    from dvc.repo import Repo

    (folder / ".dvc").mkdir(parents=True, exist_ok=True)
    (folder / "dvc.yaml").write_text((ROOT / "dvc.yaml").read_text())
    (folder / "params.yaml").write_text(
        (ROOT / "params.yaml").read_text() if params is None else params
    )
    with Repo(str(folder), config={"core": {"no_scm": True}}) as repo:
        return {s.name: (s.cmd, [d.def_path for d in s.deps]) for s in repo.index.stages}


def covered(rel: str, deps: list[str]) -> bool:
    """A DVC dependency list covers `rel` (a path relative to the repository): a dep names
    the file itself or a directory above it."""
    return any(rel == d or rel.startswith(d.rstrip("/") + "/") for d in deps)


def outputs(repo: Path) -> dict[str, bytes]:
    """Every file under the stage output folders (data/, results/, reports/) of `repo`:
    path relative to the repository -> its bytes."""
    return {
        p.relative_to(repo).as_posix(): p.read_bytes()
        for folder in ("data", "results", "reports")
        for p in sorted((repo / folder).rglob("*"))
        if p.is_file()
    }


def snapshot(repo: Path) -> dict[str, bytes]:
    """Every output (data/, results/, reports/) and params.yaml of `repo`, by path."""
    return {**outputs(repo), "params.yaml": (repo / "params.yaml").read_bytes()}


def ran_stages(output: str) -> set[str]:
    """Stages `dvc repro` / `dvc exp run` ran (not those restored from the run cache)."""
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")}


def stderr_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]
