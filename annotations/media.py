"""Imported images for researchers (`MEDIA_URL`): a file is served only if it is an artwork's image,
or one of its derivatives (thumbnail, display image), in a study the user may see. The path in the
URL is only a key looked up in the database, so no path a user sends reaches the filesystem.
Derivatives are named by content and may be shared by artworks of several studies: one the user
may see is enough. Annotators never come here: they get the display derivative of their current
item under its assignment id (`crowd_views.session_image`)."""
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from .models import Artwork
from .selectors import studies_for_user

FILE_FIELDS = ("image", "thumbnail", "display_image")


@require_GET
@login_required
def media_file(request, name: str):
    if "\x00" in name:  # no stored name holds one, and PostgreSQL refuses it in a query (a 500)
        raise Http404("No such file")
    artwork = Artwork.objects.filter(Q(image=name) | Q(thumbnail=name) | Q(display_image=name),
                                     study__in=studies_for_user(request.user)).first()
    if artwork is None:
        raise Http404("No such file")
    stored = next(getattr(artwork, field) for field in FILE_FIELDS if getattr(artwork, field).name == name)
    try:
        handle = stored.open("rb")
    except OSError:
        raise Http404("No such file") from None
    response = FileResponse(handle)
    response["Cache-Control"] = "private, max-age=3600"
    return response
