from django import forms
from django.conf import settings

from .runs import STAND_IN_NAME


class ClipRunForm(forms.Form):
    model_name = forms.CharField(max_length=200, label="Model",
                                 help_text=f"A hub id or a local folder; {STAND_IN_NAME} is the offline stand-in "
                                           "(random weights: for trying the pipeline, its answers mean nothing)")
    batch_size = forms.IntegerField(min_value=1, max_value=1024, required=False,
                                    help_text=f"Images per forward (default {settings.CLIP_BATCH_SIZE})")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"model_name": settings.CLIP_MODEL})
        super().__init__(*args, **kwargs)
