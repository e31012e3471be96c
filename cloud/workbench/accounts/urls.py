from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("link/", views.login_link_request, name="link"),
    path("link/<str:token>/", views.login_link_use, name="link_use"),
    path("tokens/", views.api_tokens, name="tokens"),
]
