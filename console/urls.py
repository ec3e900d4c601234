from django.urls import path
from django.views.i18n import set_language

from console import account, focal, officer, operation, pathway_editor, person_door, sending, views

app_name = "console"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("sign-in", views.sign_in, name="sign-in"),
    path("sign-out", views.sign_out, name="sign-out"),
    # Django's own: POST language + next, stored in the language cookie (CSRF-protected like any form)
    path("language", set_language, name="language"),
    path("referrals/<str:referral_id>", views.referral_detail, name="referral"),
    path("referrals/<str:referral_id>/<str:action>", views.referral_act, name="referral-act"),
    # each role's pages live in a module of their own
    *officer.urlpatterns,
    *sending.urlpatterns,
    *focal.urlpatterns,
    *operation.urlpatterns,
    *pathway_editor.urlpatterns,
    *account.urlpatterns,
    *person_door.urlpatterns,
]
