from django.conf import settings
from django.contrib import admin
from django.contrib.auth import urls as auth_urls
from django.urls import include, path, re_path

from annotations.media import media_file
from config.api_urls import not_found as api_not_found
from config.health import health

# Login, logout and password change; password reset only where mail can be sent (EMAIL_HOST), else
# its pages would promise an email that never comes.
ACCOUNT_URLS = [p for p in auth_urls.urlpatterns if settings.PASSWORD_RESET or not p.name.startswith("password_reset")]

urlpatterns = [
    path("healthz", health, name="health"),
    path("admin/", admin.site.urls),
    path("accounts/", include(ACCOUNT_URLS)),
    path("api/", include("config.api_urls")),
    re_path(r"^api/[\s\S]*/\Z", api_not_found),  # JSON, not the site's page; [\s\S]: a path may hold a line break
    path("", include("clipworker.urls")),
    path("", include("alignment.urls")),
    path("", include("annotations.urls")),
    # Imported images, for the researchers of their study only (never a public folder).
    path(f"{settings.MEDIA_URL.strip('/')}/<path:name>", media_file, name="media"),
]
