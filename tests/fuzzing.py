import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

from consent_server import create_app
from consent_server.cli import init_database
from tests.conftest import SECRET

# Hypothesis keeps its caches (Unicode tables, examples) in .hypothesis/ of
# the working directory, which is the checkout: keep them in the system's
# temporary folder instead, where a later run still finds them.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "consent-server-hypothesis")

# Moderate run time: a couple of hundred examples each, no per-example
# deadline (the first requests of a fresh app are slower than the rest), and
# no example database: a failure is printed with how to reproduce it.
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def sqlite_app(folder: Path, **config):
    # An app on its own SQLite file with the demo site, for a whole module.
    settings = {
        "TESTING": True,
        "DATABASE_URL": f"sqlite:///{folder / 'consent.sqlite'}",
        "SECRET_KEY": SECRET,
        "RATELIMIT_ENABLED": False,
    }
    settings.update(config)
    app = create_app(settings, instance_path=str(folder / "instance"))
    with app.app_context():
        init_database()
    return app
