"""Extensions created once, bound to the app in the factory."""

from datetime import datetime

from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import DateTime
from sqlalchemy.orm import DeclarativeBase, registry

from . import rate_limits  # noqa: F401  (registers the sqlitefile:// storage of rate-limit counters)


class Base(DeclarativeBase):
    """Every model's base: a `Mapped[datetime]` column stores a timezone-aware time (UTC, engagement.dates)."""

    registry = registry(type_annotation_map={datetime: DateTime(timezone=True)})


# expire_on_commit=False: an object read before a write transaction stays usable after it, without a second query.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
# Partners on slow connections: pages and exports are sent gzip-compressed.
compress = Compress()
# request.htmx: whether a request came from htmx, and its headers (the app's request class).
htmx = Htmx()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
