"""Command-line tasks: `flask --app pnapp <command>`."""

from __future__ import annotations

import subprocess
import sys

import click
from flask import Flask
from flask_migrate import upgrade


def init_app(app: Flask) -> None:
    @app.cli.command("init")
    def init_command():
        """Prepare the instance folder and bring the database up to date."""
        upgrade()
        click.echo(f"Database ready; instance folder: {app.instance_path}")

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
    def serve_command(host: str, port: int, workers: int):
        """Serve pnapp with gunicorn (the single-machine default)."""
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
            "--access-logfile",
            "-",
            "pnapp:create_app()",
        ]
        click.echo(f"pnapp is at http://{host}:{port}")
        web = subprocess.Popen(gunicorn)
        try:
            web.wait()
        except KeyboardInterrupt:
            web.terminate()
            web.wait()
