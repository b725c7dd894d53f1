from django import forms
from django.conf import settings

from .runs import STAND_IN_NAME, clip_model_default, clip_models_offered


class ClipRunForm(forms.Form):
    # A choice among the operator's models; whether a name is offered is cliprun_request's rule alone.
    model_name = forms.CharField(max_length=200, label="Model", widget=forms.Select,
                                 help_text=f"The models this site offers (its operator lists them); {STAND_IN_NAME}"
                                           " is the offline stand-in (random weights: for trying the pipeline, its"
                                           " answers mean nothing); on a machine that has the real checkpoint (or"
                                           " can download it), choose openai/clip-vit-large-patch14-336")
    batch_size = forms.IntegerField(min_value=1, max_value=1024, required=False,
                                    help_text=f"Images per forward (default {settings.CLIP_BATCH_SIZE})")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"model_name": clip_model_default()})
        super().__init__(*args, **kwargs)
        self.fields["model_name"].widget.choices = [
            (name, f"{name} (stand-in, random weights)" if name == STAND_IN_NAME else name)
            for name in clip_models_offered()]
