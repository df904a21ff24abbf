"""gunicorn entry point: `gunicorn wsgi:app`."""

from pnapp import create_app

app = create_app()
