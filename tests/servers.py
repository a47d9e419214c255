import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from consent_server.domain.note import Signer


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


# A log signing key for the servers the tests start outside testing mode,
# which refuse to start without one.
LOG_KEY = Signer.generate("tests.consent-server.example/log").key


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


DEPLOY = os.path.join(os.path.dirname(os.path.dirname(__file__)), "deploy")


def start_gunicorn(port, env, *extra):
    """gunicorn with the documented settings (deploy/gunicorn.conf.py) on ``port``.

    ``extra`` arguments come after the config file, so they override it.
    """
    return start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            os.path.join(DEPLOY, "gunicorn.conf.py"),
            "-b",
            f"127.0.0.1:{port}",
            *extra,
            "consent_server:create_app()",
        ],
        env,
    )


def self_signed_certificate(directory):
    """A throw-away certificate for 127.0.0.1; returns (cert path, key path)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path = os.path.join(directory, "cert.pem")
    key_path = os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path


def _replace_once(text, old, new):
    # The documented file must still say this; if it changed, so must the test.
    assert text.count(old) == 1, f"deploy/nginx.conf no longer has {old!r} once"
    return text.replace(old, new)


def start_nginx(directory, upstream_port):
    """nginx with deploy/nginx.conf in front of ``upstream_port``, in ``directory``.

    Its own pid file, logs and temporary paths, ``daemon off`` so the test
    owns the process; only the ports and certificate paths are changed.
    Returns (process, https port).
    """
    directory = str(directory)
    http_port, https_port = free_port(), free_port()
    cert, key = self_signed_certificate(directory)
    with open(os.path.join(DEPLOY, "nginx.conf")) as f:
        site = f.read()
    site = _replace_once(
        site, "server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};"
    )
    site = _replace_once(site, "listen 80;", f"listen 127.0.0.1:{http_port};")
    site = _replace_once(site, "listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    site = _replace_once(site, "/etc/ssl/certs/consent.example.com.pem", cert)
    site = _replace_once(site, "/etc/ssl/private/consent.example.com.key", key)
    with open(os.path.join(directory, "consent-server.conf"), "w") as f:
        f.write(site)
    temp = {
        name: os.path.join(directory, name)
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    }
    # As root, nginx's workers would drop to "nobody", who cannot read this
    # private temporary folder; any other user runs them as itself.
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = (
        f"{user}daemon off;\nworker_processes 1;\n"
        f"pid {directory}/nginx.pid;\nerror_log {directory}/error.log warn;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"  access_log {directory}/access.log;\n"
        + "".join(f"  {name}_temp_path {path};\n" for name, path in temp.items())
        + f"  include {directory}/consent-server.conf;\n}}\n"
    )
    conf = os.path.join(directory, "nginx.conf")
    with open(conf, "w") as f:
        f.write(main)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = start(
        [nginx, "-p", directory, "-e", f"{directory}/error.log", "-c", conf], {}
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            with open(os.path.join(directory, "error.log")) as f:
                raise RuntimeError(f"nginx exited: {f.read()}")
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", https_port), timeout=1),
        ):
            return process, https_port
        time.sleep(0.05)
    raise RuntimeError("nginx did not listen within 10 s")


def slow_get(sock, path, headers, rate, *, on_progress=None):
    """GET ``path`` on a connected socket and read the answer at ``rate`` bytes/s.

    Returns the raw bytes received until the server closed the connection.
    ``on_progress(received_bytes)`` is called after each read.
    """
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    received = bytearray()
    start_time = time.monotonic()
    while True:
        chunk = sock.recv(8192)
        if not chunk:
            return bytes(received)
        received += chunk
        if on_progress:
            on_progress(len(received))
        # Sleep until the average is back down to the rate.
        ahead = len(received) / rate - (time.monotonic() - start_time)
        if ahead > 0:
            time.sleep(ahead)


def slow_socket(port, *, tls=False, receive_buffer=32 * 1024):
    """A client socket with a small receive buffer, so a slow reader pushes back."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", port))
    if tls:
        import ssl

        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        sock = context.wrap_socket(sock)
    return sock
