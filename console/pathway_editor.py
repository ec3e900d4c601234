"""The operation admin's pathway editor (drafts, steps, links with conditions, validate, publish,
archive, compare) and the interactive pathway map."""

from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from console.shared import sign_in_required


@require_GET
@sign_in_required
def pathways(request):
    return render(request, "console/placeholder.html", {"heading": _("Pathways")})


urlpatterns = [
    path("pathways", pathways, name="pathways"),
]
