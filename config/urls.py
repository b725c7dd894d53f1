from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from annotations.media import media_file
from config.health import health

urlpatterns = [
    path("healthz", health, name="health"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("config.api_urls")),
    path("", include("clipworker.urls")),
    path("", include("alignment.urls")),
    path("", include("annotations.urls")),
    # Imported images, for the researchers of their study only (never a public folder).
    path(f"{settings.MEDIA_URL.strip('/')}/<path:name>", media_file, name="media"),
]
