"""Extensions, created unbound and bound to the app in create_app()."""

from __future__ import annotations

from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

from pnapp.errors import ErrorSchema

# Named constraints so Alembic migrations are identical on SQLite and PostgreSQL.
db = SQLAlchemy(
    metadata=MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
compress = Compress()
# Storage comes from RATELIMIT_STORAGE_URI: memory by default (per process), Redis to share.
limiter = Limiter(key_func=get_remote_address)

# Limits on the doors attackers knock on; generous for a person, tight for a script.
LOGIN_LIMIT = "10 per minute;100 per day"
REGISTER_LIMIT = "5 per minute;50 per day"
ACCEPT_LIMIT = "10 per minute"
PUSH_TEST_LIMIT = "5 per minute"


class PnApi(Api):
    """flask-smorest's Api with our error shape; pnapp.errors handles every error itself."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        pass


api = PnApi()
