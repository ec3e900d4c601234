"""Every signed-in person's own pages: account, password, sessions, notifications, the demo's personas."""

from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from console.shared import sign_in_required


@require_GET
@sign_in_required
def landing(request):
    return render(request, "console/placeholder.html", {"heading": _("Your account")})


@require_GET
@sign_in_required
def notifications(request):
    return render(request, "console/placeholder.html", {"heading": _("Notifications")})


urlpatterns = [
    path("account", landing, name="account"),
    path("notifications", notifications, name="notifications"),
]
