"""The focal point's pages: members, services, webhooks."""

from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from console.shared import sign_in_required


@require_GET
@sign_in_required
def landing(request):
    return render(request, "console/placeholder.html", {"heading": _("Your organisation")})


urlpatterns = [
    path("organisation", landing, name="organisation"),
]
