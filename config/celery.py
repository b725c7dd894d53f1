"""The Celery app. Settings come from Django's (CELERY_* names); tasks are found in the apps."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("artalign")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
