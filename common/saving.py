"""The one way services save a tracked row: with its author in the history, validated by default."""

from django.core.exceptions import ValidationError

from common.errors import ServiceError


def save_with_history(instance, actor, *, validate: bool = True, **save_kwargs) -> None:
    """Save ``instance`` with ``actor`` recorded as the author of its history row.

    A full save is validated first (``full_clean``), so a broken invariant is a 400, not a 500;
    ``update_fields`` saves are not (they write status columns only). ``validate=False`` is for rows
    whose rules are checked elsewhere: pathway drafts are validated as a whole before publishing, so
    a half-drawn graph can be saved one edit at a time; a referral's changes follow the transition
    table.
    """
    instance._history_user = actor
    if validate and "update_fields" not in save_kwargs:
        try:
            instance.full_clean()
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise ServiceError(
                "; ".join(messages), code="invalid", field=None if field == "__all__" else field
            ) from exc
    instance.save(**save_kwargs)
