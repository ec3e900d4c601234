"""Serializer plumbing shared by every app's REST adapters."""

from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """Input serializer that rejects fields it does not know instead of silently ignoring them."""

    def to_internal_value(self, data):
        if isinstance(data, dict) and (unknown := set(data) - set(self.fields)):
            raise serializers.ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
        return super().to_internal_value(data)
