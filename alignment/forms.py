from django import forms

from .reports import SEED_MAX, ReportOptions

DEFAULTS = ReportOptions()


class ReportOptionsForm(forms.Form):
    """The options of `alignment_report`, with its defaults."""

    seed = forms.IntegerField(initial=DEFAULTS.seed, min_value=0, max_value=SEED_MAX,
                              help_text="Seed of the bootstrap intervals")
    n_boot = forms.IntegerField(initial=DEFAULTS.n_boot, min_value=1, max_value=20000, label="Bootstrap resamples")
    # The exclusion rules: empty uses the study's (study file `exclusions`), like exports and the
    # participants page, so the report drops who they drop unless the researcher asks otherwise.
    exclude_fast_ms = forms.IntegerField(required=False, min_value=0, label="Exclude fast (ms)",
                                         help_text="Median response time below this excludes a participant; "
                                                   "empty: the study's rule; 0: off")
    min_attention_pass = forms.FloatField(required=False, min_value=0, max_value=1, label="Min. attention pass rate",
                                          help_text="Exclude participants passing fewer of their checks; "
                                                    "empty: the study's rule; 0: off")
    min_stratum_items = forms.IntegerField(initial=DEFAULTS.min_stratum_items, min_value=1,
                                           label="Min. artworks per stratum")

    @classmethod
    def initial_from(cls, options: dict) -> dict:
        """The form pre-filled with a stored report's options, except the exclusion rules: left empty,
        they follow the study's rules as they are now."""
        return {k: v for k, v in options.items()
                if k in cls.base_fields and k not in ("exclude_fast_ms", "min_attention_pass")}

    def options(self) -> ReportOptions:
        data = self.cleaned_data
        return ReportOptions(seed=data["seed"], n_boot=data["n_boot"], exclude_fast_ms=data["exclude_fast_ms"],
                             min_attention_pass=data["min_attention_pass"],
                             min_stratum_items=data["min_stratum_items"])
