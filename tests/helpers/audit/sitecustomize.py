"""Test-only: record what a pipeline stage process reads and imports (tests/e2e).

Put this folder first on PYTHONPATH and name a log file in LAYERWISE_AUDIT_LOG; every
Python process started that way imports this module at start-up, and one whose argv[0]
is a script under stages/ installs an audit hook (`sys.addaudithook`) that appends one
line per event to the log, tab-separated:

    <stage>  start   <pid>
    <stage>  open    <path under data/, results/ or datasets/ (the csv dataset's folder),
                      relative to the cwd, opened to read>
    <stage>  import  tensorflow | keras     (the first module of that package, once)

<stage> is the script's stem, plus `@<first positional argument>` when there is one
(`stages/ensemble.py snapshot` -> `ensemble@snapshot`). Stages leave with `os._exit`, so
nothing is buffered: each line is one `os.write` on a file opened with O_APPEND, and a
per-thread guard keeps the hook's own `os.open` from recording itself.
"""

import os
import sys

_ENV = "LAYERWISE_AUDIT_LOG"
_WATCHED = ("data", "results", "datasets")
_PACKAGES = ("tensorflow", "keras")
_OPTIONS_WITH_VALUE = ("--params",)


def _stage_of(argv):
    """`data`, `ensemble@snapshot`, ... for a script under stages/; None otherwise."""
    if not argv or not argv[0].endswith(".py"):
        return None
    script = os.path.relpath(os.path.abspath(argv[0]))
    parts = script.split(os.sep)
    if len(parts) != 2 or parts[0] != "stages":
        return None
    name = parts[1][: -len(".py")]
    rest = iter(argv[1:])
    for arg in rest:
        if arg in _OPTIONS_WITH_VALUE:
            next(rest, None)
        elif not arg.startswith("-"):
            return f"{name}@{arg}"
    return name


def _install(log, stage):
    import _thread

    busy = set()  # thread ids inside the hook
    state = {"fd": None, "pid": None, "seen": set()}

    def write(*fields):
        if state["pid"] != os.getpid():  # first write, or a forked child
            state["fd"] = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            state["pid"] = os.getpid()
        os.write(state["fd"], ("\t".join((stage, *fields)) + "\n").encode())

    def reading(mode, flags):
        if isinstance(mode, str):
            return "r" in mode
        if not isinstance(flags, int):
            return False
        creates = os.O_CREAT | os.O_TRUNC | getattr(os, "O_DIRECTORY", 0)
        return (flags & os.O_ACCMODE) != os.O_WRONLY and not flags & creates

    def on_open(args):
        path, mode, flags = (tuple(args) + (None, None, None))[:3]
        if isinstance(path, int) or path is None or not reading(mode, flags):
            return
        rel = os.path.relpath(os.path.abspath(os.fsdecode(path)))
        if rel.split(os.sep)[0] in _WATCHED and not os.path.isdir(rel):
            write("open", rel.replace(os.sep, "/"))

    def on_import(args):
        package = str(args[0]).partition(".")[0]
        if package in _PACKAGES and package not in state["seen"]:
            state["seen"].add(package)
            write("import", package)

    def hook(event, args):
        if event != "open" and event != "import":
            return
        me = _thread.get_ident()
        if me in busy:
            return
        busy.add(me)
        try:
            if event == "open":
                on_open(args)
            else:
                on_import(args)
        except Exception:  # never break the stage being watched
            pass
        finally:
            busy.discard(me)

    write("start", str(os.getpid()))  # before the hook: nothing to guard yet
    sys.addaudithook(hook)


def _main():
    log = os.environ.get(_ENV)
    stage = _stage_of(getattr(sys, "argv", None)) if log else None
    if stage:
        _install(os.path.abspath(log), stage)


_main()
