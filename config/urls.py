from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from config.health import health

urlpatterns = [
    path("healthz", health, name="health"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("config.api_urls")),
    path("", include("clipworker.urls")),
    path("", include("alignment.urls")),
    path("", include("annotations.urls")),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
