"""The person's public door, mounted at /check/ (hub/urls.py)."""

from community.views import urlpatterns

app_name = "community"

__all__ = ["app_name", "urlpatterns"]
