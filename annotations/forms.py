"""Forms of the researcher pages: they validate input; the services in `editing`, `uploads` and
`studies` do the work and report problems the pages show per problem."""
from django import forms
from django.core.validators import validate_slug

from .models import Study, StudyMember
from .studies import template_names

RESERVED_SLUGS = {"new"}  # /studies/new/ is the create page


class StudyCreateForm(forms.Form):
    slug = forms.CharField(max_length=80, validators=[validate_slug],
                           help_text="Short name used in the study's URLs, e.g. clip-perception-2026")
    title = forms.CharField(max_length=200, required=False, help_text="Defaults to the template's title")
    template = forms.ChoiceField(choices=(), help_text="The study file to start from; edit it afterwards")
    study_file = forms.FileField(required=False, label="or upload a study file (YAML or JSON)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [(name, name) for name in template_names()]

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError(f"{slug!r} is taken by a page of the site; choose another")
        return slug


class StudySpecForm(forms.Form):
    spec = forms.CharField(widget=forms.Textarea(attrs={"rows": 32, "cols": 100, "spellcheck": "false"}),
                           label="Study file (YAML)")


class ArtworkUploadForm(forms.Form):
    manifest = forms.FileField(help_text="CSV or parquet, one row per artwork: file or url, optional id, title, ...")
    images = forms.FileField(required=False, help_text="ZIP of the images the manifest's file column names")
    url_column = forms.CharField(max_length=100, initial="url", required=False,
                                 help_text="Column holding image URLs (rows without a file)")
    defer_download = forms.BooleanField(required=False, help_text="Keep URLs; fetch images when first needed")
    skip_bad_rows = forms.BooleanField(required=False, help_text="Import the good rows and list the bad ones")


class JudgementUploadForm(forms.Form):
    judgements = forms.FileField(help_text="CSV: participant,artwork,dimension,value[,response_ms,created_at]")
    create_artworks = forms.BooleanField(required=False, help_text="Create image-less artworks for unknown ids")
    skip_bad_rows = forms.BooleanField(required=False)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Study.Status.choices)


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=StudyMember.Role.choices, initial=StudyMember.Role.VIEWER)
