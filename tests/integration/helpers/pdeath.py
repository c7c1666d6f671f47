"""pdeath.py DOCK ARGS...: runs `DOCK ARGS` as the child of an intermediate parent
process, to test --pdeathsig.

This script makes itself a child subreaper, so once the intermediate parent is
killed the orphaned dock becomes its child and its exit status can be read.
It prints "pdeath dock=PID parent=PID", then obeys commands read from stdin:

  killparent      SIGKILL the intermediate parent, reap it, print "pdeath parent killed"
  signal N        send signal N to dock
  wait SECS       wait up to SECS for dock to exit: "pdeath dock exit RC" or "pdeath dock running"

On EOF it kills dock if still running and reaps every child it got.
"""

import ctypes
import os
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("pdeath cannot become a subreaper", flush=True)
        return 1
    r, w = os.pipe()
    parent = os.fork()
    if parent == 0:
        os.close(r)
        dock = os.fork()
        if dock == 0:
            os.close(w)
            os.execv(sys.argv[1], sys.argv[1:])
        os.write(w, f"{dock}\n".encode())
        os.close(w)
        while True:
            signal.pause()
    os.close(w)
    dock = int(os.read(r, 64).decode())
    os.close(r)
    print(f"pdeath dock={dock} parent={parent}", flush=True)
    done = False
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "killparent":
            os.kill(parent, signal.SIGKILL)
            os.waitpid(parent, 0)
            print("pdeath parent killed", flush=True)
        elif cmd[0] == "signal":
            os.kill(dock, int(cmd[1]))
        elif cmd[0] == "wait":
            deadline = time.monotonic() + float(cmd[1])
            while True:
                pid, st = os.waitpid(dock, os.WNOHANG)
                if pid:
                    print(f"pdeath dock exit {os.waitstatus_to_exitcode(st)}", flush=True)
                    done = True
                    break
                if time.monotonic() >= deadline:
                    print("pdeath dock running", flush=True)
                    break
                time.sleep(0.005)
    if not done:
        try:
            os.kill(dock, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.kill(parent, signal.SIGKILL)
    except ProcessLookupError:
        pass
    # reap what came to us (dock, and anything orphaned after it)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.01)
    return 0


if __name__ == "__main__":
    sys.exit(main())
