"""`/healthz`: whether this web process can reach the database and (when one is set) the broker.

200 with {"database": "ok", "broker": "ok"}; 503 naming what failed. Details of a failure go to
the log, not the response: the endpoint is public (load balancers and monitors call it).

Probes come by IP address or `localhost` (a load balancer, a container's HEALTHCHECK), not by the
site's public name, so `health_probe` (a middleware near the top) answers `/healthz` before anything
reads the Host header: Django's ALLOWED_HOSTS check would refuse them with 400. The answer reveals
nothing but "ok"/"unavailable" per service, so it is the same whatever the Host.
"""
import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger("artalign.health")
BROKER_TIMEOUT_S = 3


def database_check() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def broker_check() -> None:
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_S)


def health_probe(get_response):
    """Answers GET /healthz whatever the Host header (see the module's docstring); every other path
    goes on through the middleware chain, host validation included."""
    def middleware(request):
        if request.path_info == "/healthz":
            return health(request)
        return get_response(request)
    return middleware


@never_cache
@require_GET
def health(request):
    checks = {"database": database_check}
    if settings.CELERY_BROKER_URL and not settings.CELERY_TASK_ALWAYS_EAGER:
        checks["broker"] = broker_check
    report: dict[str, str | list[str]] = {}
    failed: list[str] = []
    for name, check in checks.items():
        try:
            check()
            report[name] = "ok"
        except Exception as exc:  # any failure means "not healthy"; the reason goes to the log
            logger.warning("health: %s unreachable: %s: %s", name, type(exc).__name__, exc)
            report[name] = "unavailable"
            failed.append(name)
    if failed:
        report["failed"] = failed
    return JsonResponse(report, status=503 if failed else 200)
