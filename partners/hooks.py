"""Extension point for apps that build on partners (which imports none of them).

``referrals`` registers handlers at start-up so that a focal point hand-over also hands over what
was granted to the focal point in person (PSEA reports, restricted referrals), and so that a
deactivated member loses what was granted to them in person. Handlers run inside the service's
transaction: if one fails, the hand-over or deactivation does not happen.
"""

from collections.abc import Callable

_focal_point_handlers: list[Callable] = []
_deactivation_handlers: list[Callable] = []


def register_focal_point_handler(handler: Callable) -> Callable:
    """``handler(*, organisation, previous, new, actor)`` — ``previous`` may be None."""
    if handler not in _focal_point_handlers:
        _focal_point_handlers.append(handler)
    return handler


def run_focal_point_handlers(*, organisation, previous, new, actor) -> None:
    for handler in list(_focal_point_handlers):
        handler(organisation=organisation, previous=previous, new=new, actor=actor)


def register_deactivation_handler(handler: Callable) -> Callable:
    """``handler(*, membership, actor)`` — a membership was deactivated; runs in that transaction."""
    if handler not in _deactivation_handlers:
        _deactivation_handlers.append(handler)
    return handler


def run_deactivation_handlers(*, membership, actor) -> None:
    for handler in list(_deactivation_handlers):
        handler(membership=membership, actor=actor)
