"""A small pnapp cluster on this machine, run from the deploy/ files the README documents:
nginx (deploy/nginx/pnapp.conf) in front of web instances (deploy/systemd/pnapp-web.service
with deploy/gunicorn.conf.py), scheduler processes (pnapp-scheduler.service), one
environment file (deploy/pnapp.env.example), PostgreSQL, and Redis for the shared limits.

Each web instance is a machine of its own when network namespaces can be made (root): a
namespace with a veth pair to the host, 10.231.N.x. PostgreSQL and Redis listen on the
host's loopback, which a namespace cannot reach, so socat bridges each to a Unix socket in
the run folder (file systems are shared). Without namespaces the instances listen on
loopback ports instead. tests/test_cluster.py and bench/load.py --cluster both use this.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 120  # seconds for an instance to answer /healthz (on a busy machine)
# The operator's addresses the rendered environment file adds to PNAPP_METRICS_ALLOW.
TEST_NETWORKS = "10.231.0.0/16"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=20)


def replace_all(text: str, replacements: dict[str, str], source: Path) -> str:
    """Each documented value replaced by the test's; a value the file no longer has is an
    error, so the file and the test cannot drift apart silently."""
    for old, new in replacements.items():
        if old not in text:
            raise AssertionError(f"{source.relative_to(ROOT)} no longer contains {old!r}")
        text = text.replace(old, new)
    return text


# deploy/ files


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines, as systemd's EnvironmentFile= reads them (no quotes used)."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


@dataclass
class Unit:
    """What the test takes from a systemd unit: its command and environment."""

    exec_start: list[str]
    environment: dict[str, str]
    environment_file: str
    working_directory: str


def read_unit(path: Path, paths: dict[str, str]) -> Unit:
    """The [Service] section, with /opt/pnapp and the like moved to this machine's paths."""
    text = path.read_text()
    for old, new in paths.items():
        text = text.replace(old, new)
    values: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    environment = dict(v.split("=", 1) for v in values.get("Environment", []))
    return Unit(
        shlex.split(values["ExecStart"][0]),
        environment,
        values["EnvironmentFile"][0],
        values["WorkingDirectory"][0],
    )


def self_signed(run: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, as Let's Encrypt's files would be."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
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
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = run / "fullchain.pem", run / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def vapid_private_key() -> str:
    """A fresh VAPID key as PNAPP_VAPID_PRIVATE_KEY takes it: the raw key, base64url."""
    from py_vapid import Vapid
    from py_vapid.utils import b64urlencode

    vapid = Vapid()
    vapid.generate_keys()
    return b64urlencode(vapid.private_key.private_numbers().private_value.to_bytes(32, "big"))


# Processes


@dataclass
class Process:
    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    cwd: Path = ROOT
    proc: subprocess.Popen | None = None

    def start(self) -> Process:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # one group: a kill reaches master and workers
            )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send(self, sig: int) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """The machine dies: SIGKILL to the master and every worker at once."""
        self.send(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        """A graceful stop (gunicorn: SIGTERM; nginx: SIGQUIT), then whatever is left."""
        if self.alive():
            self.send(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.send(signal.SIGKILL)  # workers left behind, if any
        if self.proc is not None and self.proc.poll() is None:
            self.proc.wait(timeout=10)

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Web:
    """One web instance: its address (as nginx reaches it) and its process."""

    name: str
    host: str
    port: int
    netns: str | None
    process: Process

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def base(self) -> str:
        return f"http://{self.address}"


@dataclass
class Cluster:
    workdir: Path
    database_url: str  # postgresql://user@127.0.0.1:5432/name
    redis_prefix: str
    push_allowed_hosts: str = "127.0.0.1"
    instances: int = 2
    schedulers: int = 2
    scheduler_interval: int = 2
    namespaces: bool | None = None  # None: when the machine allows it
    settings: dict[str, str] = field(default_factory=dict)  # documented PNAPP_* values
    web: list[Web] = field(default_factory=list)
    scheduler_processes: list[Process] = field(default_factory=list)
    helpers: list[Process] = field(default_factory=list)
    netns_made: list[str] = field(default_factory=list)
    nginx: Process | None = None
    port: int = 0

    # Setting up

    def start(self) -> Cluster:
        self.run = self.workdir / "run"
        self.run.mkdir(parents=True, exist_ok=True)
        # Unix socket paths must stay under 108 bytes: a short folder of their own.
        self.sockets = Path(tempfile.mkdtemp(prefix="pnc-"))
        self.port = free_port()
        self.tag = f"pnc{os.getpid() % 100000}"
        self.subnet = 20 + os.getpid() % 200  # 10.231.<subnet>.x, unlikely to be in use
        if self.namespaces is not False:
            self.namespaces = self._make_namespaces()
        self.env = self._environment()
        init = subprocess.run(
            [str(VENV_BIN / "flask"), "--app", "pnapp", "init"],
            cwd=ROOT,
            env={**self.env, "PNAPP_INSTANCE_PATH": str(self.run / "instance-init")},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert init.returncode == 0, f"flask init failed:\n{init.stdout}{init.stderr}"
        for i in range(self.instances):
            self.web.append(self._web(i))
        for web in self.web:
            web.process.start()
        for web in self.web:
            self.wait_until_up(web)
        self._start_nginx()
        for i in range(self.schedulers):
            self.scheduler_processes.append(self._scheduler(i).start())
        return self

    def _make_namespaces(self) -> bool:
        """One namespace per instance; False (and loopback ports) when not allowed here."""
        try:
            for i in range(self.instances):
                name = f"{self.tag}{i}"
                host, ns = f"10.231.{self.subnet}.{4 * i + 1}", f"10.231.{self.subnet}.{4 * i + 2}"
                sh("ip", "netns", "add", name)
                self.netns_made.append(name)
                h, n = f"{name}h", f"{name}n"  # interface names: at most 15 characters
                sh("ip", "link", "add", h, "type", "veth", "peer", "name", n)
                sh("ip", "link", "set", n, "netns", name)
                sh("ip", "addr", "add", f"{host}/30", "dev", h)
                sh("ip", "link", "set", h, "up")
                sh("ip", "netns", "exec", name, "ip", "addr", "add", f"{ns}/30", "dev", n)
                sh("ip", "netns", "exec", name, "ip", "link", "set", n, "up")
                sh("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
        except (subprocess.CalledProcessError, FileNotFoundError, PermissionError) as err:
            detail = getattr(err, "stderr", b"") or b""
            print(f"no network namespaces here ({err} {detail.decode(errors='replace')}): "
                  "the instances listen on loopback ports")  # fmt: skip
            self._remove_namespaces()
            return False
        return True

    def _bridge(self, name: str, target: str) -> Path:
        """A Unix socket in the run folder that forwards to `target` on the host."""
        path = self.sockets / name
        label = name.replace("/", "-").strip(".-")
        self.helpers.append(
            Process(
                f"socat-{label}",
                ["socat", f"UNIX-LISTEN:{path},fork,unlink-early,mode=600", f"TCP:{target}"],
                dict(os.environ),
                self.run / f"socat-{label}.log",
            ).start()
        )
        deadline = time.monotonic() + 10
        while not path.exists():
            if time.monotonic() > deadline:
                raise AssertionError(f"socat did not make {path}")
            time.sleep(0.05)
        return path

    def _environment(self) -> dict[str, str]:
        """deploy/pnapp.env.example with this cluster's values in place of the examples."""
        documented = read_env_file(DEPLOY / "pnapp.env.example")
        from urllib.parse import urlsplit

        parts = urlsplit(self.database_url)
        if self.namespaces:
            # PostgreSQL and Redis through sockets, which a namespace reaches through files.
            pg_dir = self.sockets / "pg"
            pg_dir.mkdir(exist_ok=True)
            self._bridge("pg/.s.PGSQL.5432", f"{parts.hostname}:{parts.port or 5432}")
            database = f"postgresql://{parts.username}@{parts.path}?host={pg_dir}"
            redis = f"redis+unix://{self._bridge('redis.sock', '127.0.0.1:6379')}"
        else:
            database, redis = self.database_url, "redis://127.0.0.1:6379/0"
        values = {
            "PNAPP_SECRET_KEY": os.urandom(24).hex(),
            "PNAPP_VAPID_PRIVATE_KEY": vapid_private_key(),
            "PNAPP_PUBLIC_URL": f"https://localhost:{self.port}",
            "DATABASE_URL": database,
            "PNAPP_RATELIMIT_STORAGE_URI": redis,
            "PNAPP_WORKERS": "2",
            "PNAPP_METRICS_ALLOW": f"{documented['PNAPP_METRICS_ALLOW']},{TEST_NETWORKS}",
            "PNAPP_SCHEDULER_INTERVAL_SECONDS": str(self.scheduler_interval),
            **self.settings,
        }
        missing = set(values) - set(documented)
        assert not missing, f"deploy/pnapp.env.example lacks {missing}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PNAPP_", "DATABASE"))}
        # As under systemd: compiled modules are kept, or every process that starts (and they
        # restart here) compiles a thousand modules again, seconds of CPU each.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(documented)
        env.update(values)
        # Only for the test: its push service on loopback, its own Redis keys.
        env["PNAPP_PUSH_ALLOWED_HOSTS"] = self.push_allowed_hosts
        env["PNAPP_RATELIMIT_KEY_PREFIX"] = self.redis_prefix
        return env

    def _paths(self, name: str) -> dict[str, str]:
        return {
            "/opt/pnapp/.venv/bin/": f"{VENV_BIN}/",
            "/opt/pnapp": str(ROOT),
            "/etc/pnapp/pnapp.env": str(self.run / "pnapp.env"),
            f"/run/{name}": str(self.run / name),
        }

    def _web(self, i: int) -> Web:
        name = "ab"[i] if i < 2 else str(i)
        unit = read_unit(DEPLOY / "systemd" / "pnapp-web.service", self._paths("pnapp-web"))
        netns = self.netns_made[i] if self.namespaces else None
        host = f"10.231.{self.subnet}.{4 * i + 2}" if netns else "127.0.0.1"
        port = 8000 if netns else free_port()
        env = {**self.env, **unit.environment}
        env["PROMETHEUS_MULTIPROC_DIR"] = str(self.run / f"web-{name}" / "metrics")
        env["PNAPP_BIND"] = f"{host}:{port}"
        env["PNAPP_INSTANCE_PATH"] = str(self.run / f"instance-{name}")
        command = unit.exec_start
        if netns:
            command = ["ip", "netns", "exec", netns, *command]
        process = Process(f"web-{name}", command, env, self.run / f"web-{name}.log")
        process.cwd = Path(unit.working_directory)
        return Web(name, host, port, netns, process)

    def _scheduler(self, i: int) -> Process:
        unit = read_unit(
            DEPLOY / "systemd" / "pnapp-scheduler.service", self._paths("pnapp-scheduler")
        )
        env = {**self.env, **unit.environment}
        env["PNAPP_INSTANCE_PATH"] = str(self.run / f"instance-scheduler-{i}")
        process = Process(f"scheduler-{i}", unit.exec_start, env, self.run / f"scheduler-{i}.log")
        process.cwd = Path(unit.working_directory)
        return process

    def _start_nginx(self) -> None:
        prefix = self.run / "nginx"
        for sub in ("tmp/body", "tmp/proxy", "tmp/fcgi", "tmp/uwsgi", "tmp/scgi"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        cert, key = self_signed(prefix)
        site = DEPLOY / "nginx" / "pnapp.conf"
        upstreams = {"server 10.0.0.11:8000 ": f"server {self.web[0].address} "}
        if len(self.web) > 1:
            upstreams["server 10.0.0.12:8000 "] = f"server {self.web[1].address} "
        else:  # one machine: its line only
            upstreams["    server 10.0.0.12:8000 max_fails=1 fail_timeout=5s;\n"] = ""
        text = replace_all(
            site.read_text(),
            {
                **upstreams,
                "/etc/letsencrypt/live/pnapp.example.org/fullchain.pem": str(cert),
                "/etc/letsencrypt/live/pnapp.example.org/privkey.pem": str(key),
                "pnapp.example.org": "localhost",
                "listen 80;": f"listen 127.0.0.1:{free_port()};",
                "listen [::]:80;": "",
                "listen 443 ssl;": f"listen 127.0.0.1:{self.port} ssl;",
                "listen [::]:443 ssl;": "",
                "/var/log/nginx/pnapp.access.log": str(prefix / "access.log"),
                "/opt/pnapp/": f"{ROOT}/",
            },
            site,
        )
        self.site = prefix / "pnapp.conf"
        self.site.write_text(text)
        # What Debian's /etc/nginx/nginx.conf gives a site, in the foreground.
        (prefix / "nginx.conf").write_text(
            "daemon off;\nmaster_process on;\nworker_processes 1;\npid nginx.pid;\n"
            "error_log stderr notice;\nevents { worker_connections 1024; }\nhttp {\n"
            "    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
            "    sendfile on;\n    client_body_temp_path tmp/body;\n"
            "    proxy_temp_path tmp/proxy;\n    fastcgi_temp_path tmp/fcgi;\n"
            "    uwsgi_temp_path tmp/uwsgi;\n    scgi_temp_path tmp/scgi;\n"
            f"    include {self.site};\n}}\n"
        )
        self.nginx_cmd = ["nginx", "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"), "-e",
                          "stderr"]  # fmt: skip
        check = subprocess.run([*self.nginx_cmd, "-t", "-q"], capture_output=True, text=True)
        assert check.returncode == 0, f"nginx -t refused the site:\n{check.stderr}\n{text}"
        self.nginx = Process("nginx", self.nginx_cmd, dict(os.environ), prefix / "nginx.log")
        self.nginx.start()
        self.cert = cert
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.get("/healthz").status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or not self.nginx.alive():
                raise AssertionError(f"nginx did not answer:\n{self.nginx.tail()}")
            time.sleep(0.1)

    @property
    def base(self) -> str:
        return f"https://localhost:{self.port}"

    def get(self, path: str, **kwargs) -> requests.Response:
        with requests.Session() as http:
            http.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would win
            return http.get(f"{self.base}{path}", verify=str(self.cert), timeout=10, **kwargs)

    # Operating

    def wait_until_up(self, web: Web, timeout: float = STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not web.process.alive():
                raise AssertionError(f"{web.name} exited:\n{web.process.tail()}")
            try:
                if self.direct(web, "/healthz").status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{web.name} did not answer in {timeout} s:\n{web.process.tail()}")

    def direct(self, web: Web, path: str, **kwargs) -> requests.Response:
        """A request straight to one instance (as an operator or Prometheus would)."""
        kwargs.setdefault("timeout", 10)
        return requests.get(f"{web.base}{path}", **kwargs)

    def restart(self, web: Web) -> None:
        web.process.start()
        self.wait_until_up(web)

    def set_down(self, web: Web, down: bool) -> None:
        """Mark one upstream down (or up again) in the site file and reload nginx, as the
        README's rolling restart does; old nginx workers finish their requests first."""
        text = self.site.read_text()
        line = re.compile(rf"(server {re.escape(web.address)} [^;]*?)( down)?;")
        text, found = line.subn(lambda m: m.group(1) + (" down;" if down else ";"), text)
        assert found == 1, f"no upstream line for {web.address}"
        self.site.write_text(text)
        subprocess.run([*self.nginx_cmd, "-s", "reload"], check=True, capture_output=True)

    def stop(self) -> None:
        """Everything this cluster started, by process id; then the namespaces."""
        for process in self.scheduler_processes:
            process.stop()
        if self.nginx is not None:
            self.nginx.stop(signal.SIGQUIT, timeout=10)
        for web in self.web:
            web.process.stop(timeout=15)
        for helper in self.helpers:
            helper.stop(timeout=5)
        self._remove_namespaces()
        if getattr(self, "sockets", None):
            shutil.rmtree(self.sockets, ignore_errors=True)

    def _remove_namespaces(self) -> None:
        for name in self.netns_made:
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=20)
            subprocess.run(["ip", "link", "del", f"{name}h"], capture_output=True, timeout=20)
        self.netns_made.clear()

    def logs(self) -> str:
        parts = [self.nginx] if self.nginx else []
        parts += [w.process for w in self.web] + self.scheduler_processes
        return "\n".join(f"--- {p.name} ---\n{p.tail()}" for p in parts)


def ensure_nginx() -> None:
    if shutil.which("nginx") is None:
        raise AssertionError("nginx is missing: apt-get install nginx-light (.ci/run does)")
