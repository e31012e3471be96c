from django.apps import AppConfig


class FacilitationConfig(AppConfig):
    name = "cloud.workbench.facilitation"
    label = "facilitation"
