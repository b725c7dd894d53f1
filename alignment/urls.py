from django.urls import path

from . import plan_views, views

app_name = "alignment"
urlpatterns = [
    path("studies/<slug:slug>/alignment/", views.dashboard, name="dashboard"),
    path("studies/<slug:slug>/alignment/compute/", views.report_compute, name="report_compute"),
    path("studies/<slug:slug>/alignment/jobs/<int:job_id>/", views.report_job_json, name="report_job_json"),
    path("studies/<slug:slug>/alignment/plan/", plan_views.plan_page, name="plan"),
    path("studies/<slug:slug>/exports/", views.exports, name="exports"),
    path("studies/<slug:slug>/exports/<slug:kind>/", views.export_download, name="export_download"),
]
