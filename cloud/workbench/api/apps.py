from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "cloud.workbench.api"
    label = "api"
