from django.urls import path

from . import views

app_name = "simulations"
urlpatterns = [
    path("test/", views.start, name="start"),
    path("jobs/<int:job>/", views.job_page, name="job"),
    path("jobs/<int:job>/progress/", views.job_progress, name="progress"),
    path("jobs/<int:job>/retry/", views.retry, name="retry"),
    path("settings/", views.twin_settings, name="settings"),
]
