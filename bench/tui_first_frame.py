"""Time from starting nnrepl's terminal classroom to its first complete frame.

    /usr/bin/python3 bench/tui_first_frame.py NNREPL [FILE.nnl] [RUNS]

Runs nnrepl in a pseudo-terminal of 80x24 (TERM=xterm-256color), reads what
it writes until the status bar (the last row drawn; it shows "step 0") has
arrived and the output has paused for 50 ms (the frame is complete), then
presses F10. The
time printed is the median, over RUNS runs (default 11), from the fork to the
last byte of that first frame, in milliseconds."""
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import sys
import termios
import time

MARKER = b"step 0"
QUIET = 0.05
LIMIT = 10.0


def first_frame(argv):
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        os.environ["HOME"] = os.environ.get("TMPDIR", "/tmp")
        os.execv(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    seen = b""
    last = None
    try:
        while time.perf_counter() - start < LIMIT:
            ready, _, _ = select.select([fd], [], [], QUIET)
            if not ready:
                if MARKER in seen:
                    break
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            last = time.perf_counter()
        if MARKER not in seen or last is None:
            raise RuntimeError("no frame with the status bar within %.0f s" % LIMIT)
        return (last - start) * 1e3
    finally:
        os.write(fd, b"\x1b[21~")  # F10
        deadline = time.perf_counter() + 5
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    if not os.read(fd, 65536):
                        break
                except OSError:
                    break
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                pid = 0
                break
        if pid:
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
        os.close(fd)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    argv = [sys.argv[1]] + ([sys.argv[2]] if len(sys.argv) > 2 and sys.argv[2] else [])
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 11
    times = [first_frame(argv) for _ in range(runs)]
    print("median %.1f ms of %d runs (min %.1f)" % (statistics.median(times), runs, min(times)))


if __name__ == "__main__":
    main()
