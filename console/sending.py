"""The officer's send flow (need → next steps or directory → preview of what travels → send) and
the referrals the organisation sent (status, due-by, overdue, outcome; withdraw, close)."""

from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from console.shared import sign_in_required


@require_GET
@sign_in_required
def sent(request):
    return render(request, "console/placeholder.html", {"heading": _("Referrals sent")})


@require_GET
@sign_in_required
def send(request, person_id):
    return render(request, "console/placeholder.html", {"heading": _("Send a referral")})


urlpatterns = [
    path("sent", sent, name="sent"),
    path("people/<str:person_id>/send", send, name="send"),
]
