from django.apps import AppConfig


class ClipworkerConfig(AppConfig):
    name = "clipworker"
