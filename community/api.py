"""Staff's side of the person's door over REST: lock or unlock status checks with a reference
(a lost or stolen phone). Members of the organisation holding the person only; anyone else gets
the same 404 as for a referral that does not exist."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from community import services

LockStateSerializer = inline_serializer(
    "StatusCheckLockState",
    {"reference": serializers.CharField(), "locked": serializers.BooleanField()},
)


class StatusCheckLockView(APIView):
    @extend_schema(
        request=None,
        responses={201: LockStateSerializer},
        summary="Lock status checks with this referral's reference (no code is sent; open sessions end)",
    )
    def post(self, request, pk):
        referral = services.referral_for_lock(actor=request.user, referral_id=pk)
        services.status_check_lock(actor=request.user, referral=referral)
        return Response({"reference": referral.reference, "locked": True}, status=status.HTTP_201_CREATED)


class StatusCheckUnlockView(APIView):
    @extend_schema(
        request=None,
        responses={200: LockStateSerializer},
        summary="Unlock status checks with this referral's reference",
    )
    def post(self, request, pk):
        referral = services.referral_for_lock(actor=request.user, referral_id=pk)
        services.status_check_unlock(actor=request.user, referral=referral)
        return Response({"reference": referral.reference, "locked": False})
