"""The WSGI application, loaded warm: the URLconf (which imports every view module, the statistics
stack among them: about a second) and the participant pages' templates are loaded here, not on
some participant's first request to each worker process. gunicorn loads this once in its master
(`preload_app`, config/gunicorn.conf.py), so every worker, including those that replace recycled
ones, starts warm. What is loaded then is frozen out of the garbage collector's passes (gc.freeze):
a worker's collection no longer walks the whole statistics stack (a pause of a few hundred ms now
and then), and the pages the workers share stay shared."""
import gc
import os
from pathlib import Path

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()


def _warm() -> None:
    from django.conf import settings
    from django.template.loader import get_template
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (imports the URLconf and every view module)
    for template in sorted((Path(settings.BASE_DIR) / "templates" / "annotations" / "session").glob("*.html")):
        get_template(f"annotations/session/{template.name}")


_warm()
gc.freeze()
