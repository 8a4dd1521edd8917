"""City Brain: the Chalice app. It registers the blueprints and nothing else."""

from chalice import Chalice

from functions import (
    alerts,
    audit,
    cases,
    dashboard,
    departments,
    devices,
    exchange,
    http,
    readings,
    reports,
    safety,
    uploads,
)

app = Chalice(app_name="citybrain")
app.register_blueprint(http.api)
app.register_blueprint(departments.bp)
app.register_blueprint(devices.bp)
app.register_blueprint(readings.bp)
app.register_blueprint(uploads.bp)
app.register_blueprint(exchange.bp)
app.register_blueprint(audit.bp)
app.register_blueprint(alerts.bp)
app.register_blueprint(reports.bp)
app.register_blueprint(dashboard.bp)
app.register_blueprint(safety.bp)
app.register_blueprint(cases.bp)
