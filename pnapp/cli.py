"""Command-line tasks: `flask --app pnapp <command>`."""

from __future__ import annotations

import signal
import subprocess
import sys

import click
from flask import Flask
from flask_migrate import upgrade


def init_app(app: Flask) -> None:
    @app.cli.command("init")
    def init_command():
        """Prepare the instance folder (keys) and bring the database up to date."""
        from pnapp.reminders.channels import push

        upgrade()
        push.load_vapid(app)
        click.echo(f"Database ready; instance folder: {app.instance_path}")

    @app.cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False, writable=True))
    def backup_command(path: str):
        """Copy the SQLite database to PATH, consistently, while the app keeps running."""
        from pnapp.backup import backup_sqlite

        pages = backup_sqlite(app.config["SQLALCHEMY_DATABASE_URI"], path)
        click.echo(f"Backed up {pages} pages to {path}")

    @app.cli.command("vapid-keys")
    def vapid_keys_command():
        """Show the VAPID public key (made once in the instance folder when none is set)."""
        from pnapp.reminders.channels import push

        click.echo(push.public_key(push.load_vapid(app)))

    @app.cli.command("send-reminders")
    @click.option("--now", "now_text", help="ISO 8601 instant to act as now (default: now)")
    def send_reminders_command(now_text: str | None):
        """Run one reminder pass: plan what is due, send it, record it."""
        from datetime import datetime

        from pnapp.reminders import send_due_reminders
        from pnapp.timeutil import utcnow

        now = datetime.fromisoformat(now_text.replace("Z", "+00:00")) if now_text else utcnow()
        if now.tzinfo is None:
            raise click.BadParameter("give an offset or Z", param_hint="--now")
        report = send_due_reminders(now)
        click.echo(
            f"planned {report.planned}, sent {report.sent}, retried {report.retried}, "
            f"failed {report.failed}, gone {report.gone}"
        )

    @app.cli.command("run-scheduler")
    def run_scheduler_command():
        """Run the reminder scheduler (one process for the whole installation)."""
        import logging

        from pnapp.scheduler import run_forever

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        run_forever(app)

    @app.cli.command("demo-data")
    @click.option("--email", default="demo@pnapp.example", show_default=True)
    @click.option("--weeks", default=52, show_default=True)
    @click.option("--seed", default=7, show_default=True)
    def demo_data_command(email: str, weeks: int, seed: int):
        """A demo patient with a realistic year of sessions (password: demo-password)."""
        from pnapp.demo import make_demo_patient

        user, count = make_demo_patient(email=email, weeks=weeks, seed=seed)
        click.echo(f"{user.email} (password: demo-password) with {count} sessions")

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, envvar="PORT", show_default=True)
    @click.option("--workers", default=2, show_default=True)
    @click.option(
        "--scheduler/--no-scheduler",
        default=True,
        show_default=True,
        help="also run the reminder scheduler, as one separate process",
    )
    def serve_command(host: str, port: int, workers: int, scheduler: bool):
        """Serve pnapp with gunicorn, plus one scheduler process (the single-machine default)."""
        import os

        env = dict(os.environ)
        env.setdefault("PNAPP_PUBLIC_URL", f"http://{host}:{port}")
        gunicorn = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--threads",
            "4",
            "--bind",
            f"{host}:{port}",
            # No access log: paths carry invitation tokens and people's record ids.
            "pnapp:create_app()",
        ]
        # A supervisor stops us with SIGTERM: leave through `finally`, taking the children.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        processes = [subprocess.Popen(gunicorn, env=env)]
        if scheduler:
            # One scheduler beside the web workers, never inside them.
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "pnapp", "run-scheduler"], env=env
                )
            )
        click.echo(f"pnapp is at http://{host}:{port}")
        try:
            processes[0].wait()
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait()
