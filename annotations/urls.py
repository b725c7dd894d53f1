from django.urls import path

from . import views

app_name = "annotations"
urlpatterns = [
    path("", views.home, name="home"),
    path("studies/", views.study_list, name="study_list"),
    path("studies/<slug:slug>/", views.study_detail, name="study_detail"),
]
