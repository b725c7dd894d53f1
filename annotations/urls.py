from django.urls import path

from . import crowd_views, views

app_name = "annotations"
urlpatterns = [
    path("", views.home, name="home"),
    # Researcher pages (login; study_for_user decides access).
    path("studies/", views.study_list, name="study_list"),
    path("studies/new/", views.study_create_view, name="study_create"),
    path("studies/<slug:slug>/", views.study_detail, name="study_detail"),
    path("studies/<slug:slug>/edit/", views.study_edit, name="study_edit"),
    path("studies/<slug:slug>/upload/", views.study_upload, name="study_upload"),
    path("studies/<slug:slug>/imports/<int:job_id>.json", views.study_import_json, name="study_import_json"),
    path("studies/<slug:slug>/status/", views.study_status, name="study_status"),
    path("studies/<slug:slug>/fetch.json", views.study_fetch_json, name="study_fetch_json"),
    path("studies/<slug:slug>/failed-artworks/remove/", views.study_failed_artworks, name="study_failed_artworks"),
    path("studies/<slug:slug>/members/", views.study_members, name="study_members"),
    path("studies/<slug:slug>/progress/", views.study_progress_view, name="study_progress"),
    path("studies/<slug:slug>/progress.json", views.study_progress_json, name="study_progress_json"),
    # The annotator site (crowd sessions): one entry per study, a POST per step.
    path("s/<slug:slug>/", crowd_views.session_entry, name="session_entry"),
    path("s/<slug:slug>/consent/", crowd_views.session_consent_view, name="session_consent"),
    path("s/<slug:slug>/instructions/", crowd_views.session_instructions_view, name="session_instructions"),
    path("s/<slug:slug>/questionnaire/", crowd_views.session_questionnaire_view, name="session_questionnaire"),
    path("s/<slug:slug>/judge/", crowd_views.session_judge_view, name="session_judge"),
    path("s/<slug:slug>/image/<int:assignment_id>/", crowd_views.session_image, name="session_image"),
    path("s/<slug:slug>/trial/<int:assignment_id>/<int:slot>/", crowd_views.session_trial_image,
         name="session_trial_image"),
]
