"""Staff's side of the person's door: lock (a lost phone) or unlock the status check of a
reference. The rule (who may, what a lock ends) is ``community.services``'s, as for REST and
GraphQL."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from common.errors import NotFound, ServiceError
from community import services
from console.shared import not_found, sign_in_required

DONE = {
    "lock": (services.status_check_lock, _("The status check of this reference is locked.")),
    "unlock": (services.status_check_unlock, _("The status check of this reference is unlocked.")),
}


@require_POST
@sign_in_required
def status_check(request, referral_id, action):
    if action not in DONE:
        return not_found(request)
    try:
        referral = services.referral_for_lock(actor=request.user, referral_id=referral_id)
        service, done = DONE[action]
        service(actor=request.user, referral=referral)
    except NotFound:
        return not_found(request)
    except ServiceError as error:  # a viewer, or already locked: said on the referral page
        messages.error(request, error.message)
    else:
        messages.success(request, str(done))
    return redirect("console:referral", referral_id=referral_id)


urlpatterns = [
    path("referrals/<str:referral_id>/status-check/<str:action>", status_check, name="status-check"),
]
