"""WSGI entry point for gunicorn (`hemei serve`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hemei.settings")
application = get_wsgi_application()
