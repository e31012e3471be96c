from django.apps import AppConfig


class ParksConfig(AppConfig):
    name = "cloud.workbench.parks"
    label = "parks"
