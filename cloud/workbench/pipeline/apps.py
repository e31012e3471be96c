from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "cloud.workbench.pipeline"
    label = "pipeline"
