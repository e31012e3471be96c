"""WSGI entry point of the workbench (waitress serves it in ``aisym workbench serve``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloud.workbench.settings")
application = get_wsgi_application()
