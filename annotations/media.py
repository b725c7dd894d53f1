"""Imported images for researchers (`MEDIA_URL`): a file is served only if it is an artwork's image
in a study the user may see. The path in the URL is only a key looked up in the database, so no
path a user sends reaches the filesystem. Annotators never come here: they get the image of their
current item under its assignment id (`crowd_views.session_image`)."""
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from .models import Artwork
from .selectors import study_role


@require_GET
@login_required
def media_file(request, name: str):
    artwork = Artwork.objects.filter(image=name).select_related("study").first()
    if artwork is None or study_role(request.user, artwork.study) is None:
        raise Http404("No such file")
    try:
        handle = artwork.image.open("rb")
    except OSError:
        raise Http404("No such file") from None
    response = FileResponse(handle)
    response["Cache-Control"] = "private, max-age=3600"
    return response
