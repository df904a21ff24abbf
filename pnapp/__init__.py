"""pnapp: before and after ratings for massage sessions, for people with peripheral neuropathy."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.path.abspath(os.environ.get("PNAPP_INSTANCE_PATH", "instance")),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )

    from pnapp import (
        api,
        auth,
        cli,
        database,
        errors,
        i18n,
        metrics,
        pages,
        reminders,
        requestlog,
        security,
    )
    from pnapp import config as settings
    from pnapp.extensions import api as smorest
    from pnapp.extensions import compress, csrf, db, limiter, migrate

    settings.configure(app, config)
    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)
    smorest.init_app(app)
    auth.init_app(app)
    i18n.init_app(app)
    errors.register(app)
    security.init_app(app)
    reminders.init_app(app)
    requestlog.init_app(app)
    metrics.init_app(app)

    api.init_app(app)
    pages.init_app(app)
    cli.init_app(app)
    return app
