"""Run one command of a sweep task so that it dies with the worker that started it.

python -m layerwise.sweeps.supervise PARENT_PID COMMAND [ARG ...]

A Dask worker that is lost (killed, restarted by its nanny, its machine gone) gets its
task rerun elsewhere, but the processes the task had started would go on: `dvc exp run`
and the stage it runs, training in an abandoned clone beside the rerun. This wrapper asks
Linux to send it SIGTERM when its parent dies (PR_SET_PDEATHSIG), runs the command in a
process group of its own, and on that signal kills the whole group. Elsewhere than Linux
the command just runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys

PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: no such call
        return
    if os.getppid() != parent:  # the parent died before the request was in place
        sys.exit(128 + signal.SIGTERM)


def main(argv: list[str]) -> int:
    parent, command = int(argv[0]), argv[1:]
    child: subprocess.Popen | None = None
    ended: list[int] = []  # the signal, once it has come

    def stop(signum, frame):
        ended.append(signum)
        if child is not None:
            end_group(child, signum)
        # else: main() ends the group as soon as it has started it

    # the handler is in place before the parent's death can be signalled, and before the
    # command starts: a SIGTERM that came first would end this wrapper alone
    signal.signal(signal.SIGTERM, stop)
    _die_with_parent(parent)
    child = subprocess.Popen(command, start_new_session=True)
    if ended:
        end_group(child, ended[0])
    return child.wait()


def end_group(child: subprocess.Popen, signum: int) -> None:
    """Kill the command's whole process group, and exit as a process ended by `signum`."""
    with contextlib.suppress(ProcessLookupError):  # the group has ended already
        os.killpg(child.pid, signal.SIGKILL)
    sys.exit(128 + signum)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
