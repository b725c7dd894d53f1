from django.urls import path

from . import views

app_name = "clipworker"
urlpatterns = [
    path("studies/<slug:slug>/clip/", views.run_list, name="run_list"),
    path("studies/<slug:slug>/clip/start/", views.run_start, name="run_start"),
    path("studies/<slug:slug>/clip/<int:run_id>/", views.run_detail, name="run_detail"),
    path("studies/<slug:slug>/clip/<int:run_id>/progress.json", views.run_progress_json, name="run_progress_json"),
    path("studies/<slug:slug>/clip/<int:run_id>/cancel/", views.run_cancel, name="run_cancel"),
]
