"""gunicorn settings for pnapp-web.service: every value that differs between machines comes
from the environment file (pnapp.env.example), so this file is the same everywhere."""

import os
import shutil

wsgi_app = "pnapp:create_app()"
bind = os.environ.get("PNAPP_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("PNAPP_WORKERS", "4"))
threads = int(os.environ.get("PNAPP_THREADS", "4"))
worker_class = "gthread"
timeout = 30
# systemd's stop (SIGTERM) lets requests in flight finish for up to this long.
graceful_timeout = 20
keepalive = 5
# pnapp logs one line per request itself, without the path (it carries tokens and ids).
accesslog = None
errorlog = "-"
# gunicorn 27's control socket sits at one path per user; pnapp needs none.
control_socket_disable = True


def on_starting(server):
    """Prometheus multiprocess mode: every worker writes its numbers into this folder, which
    must be empty when the instance starts (client_python's "Multiprocess Mode")."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, mode=0o700)


def child_exit(server, worker):
    """A worker that is gone stops counting in the live gauges (the database pool)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
