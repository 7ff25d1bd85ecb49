"""Throwaway PostgreSQL, PgBouncer and Redis servers for the test and benchmark commands.

Standard library only: this runs before the virtual environment exists. Each server is
started from its own binaries on a free loopback port in a temporary directory and stopped
(and deleted) on exit. PostgreSQL refuses to run as root, so as root the cluster runs as an
unprivileged system user (``postgres`` when the package created it, else ``nobody``);
PgBouncer likewise.
"""

import glob
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from urllib.parse import unquote

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG_SUPERUSER = "perf"  # Odoo refuses the "postgres" role


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pg_bindir():
    """Directory of the newest PostgreSQL server binaries (PG_BIN overrides)."""
    if os.environ.get("PG_BIN"):
        return os.environ["PG_BIN"]
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(p.split("/")[-3]) if p.split("/")[-3].isdigit() else 0,
    )
    if candidates:
        return os.path.dirname(candidates[-1])
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(os.path.realpath(found))
    raise RuntimeError("PostgreSQL server binaries not found: install postgresql or set PG_BIN")


def _as_user():
    """Command prefix running a program as an unprivileged user when we are root."""
    if os.geteuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"], entry
    raise RuntimeError("running as root and no unprivileged user (postgres, nobody) exists")


class Postgres:
    """A throwaway cluster: ``start()``, ``dsn``, ``stop()``."""

    def __init__(self, port=None, extra_conf=None):
        self.port = port or free_port()
        self.bindir = pg_bindir()
        self.root = tempfile.mkdtemp(prefix="perf-pg-")
        self.data = os.path.join(self.root, "data")
        self.log = os.path.join(self.root, "server.log")
        self.extra_conf = extra_conf or {}
        self.prefix, self.user = _as_user()
        if self.user:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
            os.chmod(self.root, 0o755)

    @property
    def dsn(self):
        return f"postgresql://{PG_SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def _run(self, *args, **kwargs):
        return subprocess.run(
            self.prefix + list(args), check=True, capture_output=True, text=True, **kwargs
        )

    def _has_pg_stat_statements(self):
        share = subprocess.run(
            [os.path.join(self.bindir, "pg_config"), "--sharedir"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if not share:
            share = self.bindir.replace("/lib/", "/share/").rsplit("/bin", 1)[0]
        return os.path.exists(os.path.join(share, "extension", "pg_stat_statements.control"))

    def start(self):
        self._run(
            os.path.join(self.bindir, "initdb"),
            "-D",
            self.data,
            "-U",
            PG_SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        conf = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "max_connections": "200",
            "shared_buffers": "256MB",
            "fsync": "off",  # throwaway data: durability buys nothing here
            "full_page_writes": "off",
            "wal_level": "replica",
            "max_wal_senders": "4",
            "hot_standby": "on",
        }
        if self._has_pg_stat_statements():
            conf["shared_preload_libraries"] = "'pg_stat_statements'"
        conf.update(self.extra_conf)
        with open(os.path.join(self.data, "postgresql.auto.conf"), "a", encoding="utf-8") as f:
            for key, value in conf.items():
                f.write(f"{key} = {value}\n")
        self._run(
            os.path.join(self.bindir, "pg_ctl"),
            "-D",
            self.data,
            "-l",
            self.log,
            "-w",
            "-t",
            "60",
            "start",
        )
        return self

    def stop(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            subprocess.run(
                self.prefix
                + [
                    os.path.join(self.bindir, "pg_ctl"),
                    "-D",
                    self.data,
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                capture_output=True,
                check=False,
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def start_standby(self):
        """A streaming replica of this cluster (for replica routing tests): a new Postgres."""
        standby = Postgres()
        self._run(
            os.path.join(self.bindir, "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            PG_SUPERUSER,
            "-D",
            standby.data,
            "-R",
            "-X",
            "stream",
            "--no-sync",
        )
        with open(os.path.join(standby.data, "postgresql.auto.conf"), "a", encoding="utf-8") as f:
            f.write(f"port = {standby.port}\nunix_socket_directories = '{standby.root}'\n")
        standby._run(
            os.path.join(standby.bindir, "pg_ctl"),
            "-D",
            standby.data,
            "-l",
            standby.log,
            "-w",
            "-t",
            "60",
            "start",
        )
        return standby


def pgbouncer_binary():
    """Path of the ``pgbouncer`` binary (Debian installs it in /usr/sbin), or None."""
    return shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.path.exists(p)), None
    )


class PgBouncer:
    """A throwaway PgBouncer in *transaction* pooling in front of a PostgreSQL server.

    Every database of the server is reachable through it (``* =`` fallback), as any role of
    the server, with trust authentication. Server connections are reused last-in first-out, so
    clients that take turns share one: anything that relies on session state of a pooled
    connection shows. The pool is sized for the suite's concurrent transactions.
    """

    def __init__(self, upstream_dsn, port=None, pool_size=20):
        self.port = port or free_port()
        self.upstream = _uri_parts(upstream_dsn)
        self.pool_size = pool_size
        self.root = tempfile.mkdtemp(prefix="perf-pgbouncer-")
        self.proc = None
        self.prefix, self.user = _as_user()
        if self.user:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
            os.chmod(self.root, 0o755)

    def dsn(self, dbname="postgres"):
        return f"postgresql://{self.upstream['user']}@127.0.0.1:{self.port}/{dbname}"

    def start(self):
        binary = pgbouncer_binary()
        if not binary:
            raise RuntimeError("pgbouncer not found: install pgbouncer")
        up = self.upstream
        users = os.path.join(self.root, "userlist.txt")
        with open(users, "w", encoding="utf-8") as f:
            # PgBouncer logs in to the server with this password (trust for its clients).
            f.write(f'"{up["user"]}" "{up["password"]}"\n')
        os.chmod(users, 0o600)
        ini = os.path.join(self.root, "pgbouncer.ini")
        with open(ini, "w", encoding="utf-8") as f:
            f.write(
                "[databases]\n"
                f"* = host={up['host']} port={up['port']}\n"
                "[pgbouncer]\n"
                "listen_addr = 127.0.0.1\n"
                f"listen_port = {self.port}\n"
                "unix_socket_dir =\n"
                "auth_type = trust\n"
                f"auth_file = {users}\n"
                # Roles a test creates are looked up on the server (trust: no password).
                f"auth_user = {up['user']}\n"
                "auth_query = SELECT usename, passwd FROM pg_shadow WHERE usename = $1\n"
                "pool_mode = transaction\n"
                f"default_pool_size = {self.pool_size}\n"
                "max_client_conn = 1000\n"
                "max_db_connections = 0\n"
                "server_round_robin = 0\n"
                "ignore_startup_parameters = extra_float_digits\n"
                f"logfile = {os.path.join(self.root, 'pgbouncer.log')}\n"
                f"pidfile = {os.path.join(self.root, 'pgbouncer.pid')}\n"
            )
        if self.user:
            for path in (users, ini):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        self.proc = subprocess.Popen(
            self.prefix + [binary, ini],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pgbouncer exited at start: {self._log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"pgbouncer did not start: {self._log_tail()}")

    def _log_tail(self):
        try:
            with open(os.path.join(self.root, "pgbouncer.log"), encoding="utf-8") as f:
                return " | ".join(f.read().strip().splitlines()[-3:])
        except OSError:
            return "no log"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def _uri_parts(dsn):
    """``user``, ``password``, ``host``, ``port`` of a ``postgresql://user[:pw]@host:port/db``."""
    rest = dsn.split("://", 1)[1]
    userinfo, _, hostpart = rest.rpartition("@")
    hostport = hostpart.split("/", 1)[0]
    host, _, port = hostport.partition(":")
    user, _, password = userinfo.partition(":")
    return {
        "user": unquote(user) or PG_SUPERUSER,
        "password": unquote(password),
        "host": host or "127.0.0.1",
        "port": port or "5432",
    }


class Redis:
    """A throwaway Redis server, no persistence."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        binary = shutil.which("redis-server")
        if not binary:
            raise RuntimeError("redis-server not found: install redis-server")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--maxmemory",
                "256mb",
                "--maxmemory-policy",
                "allkeys-lru",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def ensure_venv():
    """Create or refresh the virtual environment; return its python."""
    path = os.environ.get("PERF_VENV") or os.path.join(ROOT, ".venv")
    python = os.path.join(path, "bin", "python")
    req = os.path.join(ROOT, "requirements-test.txt")
    with open(req, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    stamp = os.path.join(path, ".requirements.sha256")
    if not os.path.exists(python):
        print(f"==> creating virtual environment {path}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", path], check=True)
    if not os.path.exists(stamp) or open(stamp).read() != digest:
        print("==> installing test dependencies", flush=True)
        os.makedirs(os.path.join(ROOT, ".test-output"), exist_ok=True)
        log_path = os.path.join(ROOT, ".test-output", "pip.log")
        with open(log_path, "w") as log:
            for args in (["--upgrade", "pip"], ["-r", req]):
                proc = subprocess.run(
                    [python, "-m", "pip", "install", "-q", *args],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                if proc.returncode:
                    log.flush()
                    with open(log_path) as f:
                        print(f.read()[-4000:])
                    raise SystemExit(f"pip install failed (see {log_path})")
        with open(stamp, "w") as f:
            f.write(digest)
    return python
