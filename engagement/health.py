"""The health check that load balancers and the deployment ask."""

from flask import Flask

from .extensions import db


def init_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        """200 when the database answers, 503 when it does not."""
        try:
            db.session.execute(db.text("SELECT 1"))
            db.session.rollback()
        except Exception:  # noqa: BLE001 - any failure of the database means unhealthy
            db.session.rollback()
            return {"status": "database unreachable"}, 503
        return {"status": "ok"}
