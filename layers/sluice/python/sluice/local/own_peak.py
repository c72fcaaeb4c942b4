"""Run a command as the child of this small process and write the child's own peak RSS (KiB) to a file.

``python own_peak.py PEAK_FILE COMMAND...``; exits with the command's exit code (128 + N if signal N ended it).

Why: Linux carries the old address space's high-water mark into ``ru_maxrss`` at exec (fork or vfork alike), so a
job spawned straight from the local stack's process reports that process's peak, not its own. Spawned from this
launcher, the job's ``ru_maxrss`` starts from the launcher's few MB. Run by path, not ``-m``: it imports nothing of
sluice, so it stays small. On Linux the command dies with the launcher (``PR_SET_PDEATHSIG``), so killing the
launcher at the job's time limit stops the job.
"""

from __future__ import annotations

import os
import signal
import sys


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        sys.stderr.write("usage: own_peak.py PEAK_FILE COMMAND...\n")
        return 2
    peak_file, command = argv[0], argv[1:]
    pid = os.fork()
    if pid == 0:
        try:
            _die_with_parent()
            os.execvp(command[0], command)
        finally:
            os._exit(127)  # exec failed
    _, status, usage = os.wait4(pid, 0)
    with open(peak_file, "w") as sink:
        sink.write(str(usage.ru_maxrss))
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
