from django.urls import path

from partners.urls import OptionalSlashRouter
from referrals import api

router = OptionalSlashRouter()
router.register("referrals", api.ReferralViewSet, basename="referral")

urlpatterns = [
    *router.urls,
    path("information-given", api.InformationGivenView.as_view(), name="information-given"),
]
