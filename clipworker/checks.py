"""Deploy checks for the workers' settings."""
from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.compatibility, deploy=True)
def time_limit_check(app_configs, **kwargs) -> list[Warning]:
    """A task's hard time limit should end it before the broker hands it out again."""
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout")
    limit = settings.CELERY_TASK_TIME_LIMIT
    if visibility is not None and limit >= visibility:
        return [Warning(f"CELERY_TASK_TIME_LIMIT={limit} s is not under "
                        f"CELERY_VISIBILITY_TIMEOUT={visibility} s: a batch still running is handed out a second time.",
                        hint="Raise CELERY_VISIBILITY_TIMEOUT or lower the time limits.", id="clipworker.W001")]
    return []
