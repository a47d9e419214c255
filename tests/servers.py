import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url, process, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def start(args, env, cwd=None):
    """Start a server in its own process group so it can be killed whole.

    ``env`` is added to this process's environment; a value of None removes
    that variable.
    """
    env = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    return subprocess.Popen(
        args,
        env=env,
        cwd=cwd,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def kill(process, sig=signal.SIGKILL):
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    process.wait(timeout=10)
    if process.stderr:
        process.stderr.close()


def cli(args, env):
    return subprocess.run(
        [sys.executable, "-m", "consent_server", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
