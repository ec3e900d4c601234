"""Extension point for apps that build on partners (which imports none of them).

``referrals`` registers a handler at start-up so that a focal point hand-over also hands over
what was granted to the focal point in person (PSEA reports, restricted referrals). Handlers run
inside the hand-over's transaction: if one fails, the hand-over does not happen.
"""

from collections.abc import Callable

_focal_point_handlers: list[Callable] = []


def register_focal_point_handler(handler: Callable) -> Callable:
    """``handler(*, organisation, previous, new, actor)`` — ``previous`` may be None."""
    if handler not in _focal_point_handlers:
        _focal_point_handlers.append(handler)
    return handler


def run_focal_point_handlers(*, organisation, previous, new, actor) -> None:
    for handler in list(_focal_point_handlers):
        handler(organisation=organisation, previous=previous, new=new, actor=actor)
