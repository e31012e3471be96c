from django.urls import path

from . import views

app_name = "impact"
urlpatterns = [
    path("", views.park_impact, name="park"),
    path("impact.csv", views.impact_csv, name="csv"),
    path("twin-year/", views.twin_year_progress, name="progress"),
    path("public/", views.public_summary, name="public"),
    path("public/switch/", views.public_switch, name="public_switch"),
]
