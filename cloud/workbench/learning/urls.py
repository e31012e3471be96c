from django.urls import path

from . import views

app_name = "learning"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:module>/", views.module, name="module"),
    path("<slug:module>/check/", views.check, name="check"),
]
