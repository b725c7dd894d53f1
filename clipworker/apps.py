from django.apps import AppConfig


class ClipworkerConfig(AppConfig):
    name = "clipworker"

    def ready(self):
        from . import checks  # noqa: F401  (registers its deploy check)
