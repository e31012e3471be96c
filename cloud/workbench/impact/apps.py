from django.apps import AppConfig


class ImpactConfig(AppConfig):
    name = "cloud.workbench.impact"
    label = "impact"
