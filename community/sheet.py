"""The printable information sheet of an operation: how to check a referral, how to give
feedback, that services are free, how to report fraud — with a QR code to the status page."""

from __future__ import annotations

import segno
from django.utils.safestring import mark_safe

from common.errors import NotFound
from consent.receipt import status_page_url
from partners.models import Operation


def status_url() -> str:
    return status_page_url()


def qr_svg(url: str) -> str:
    """The QR code as inline SVG: dark modules as one path, no script, no style attribute."""
    return segno.make(url, error="m").svg_inline(scale=4, border=2, svgclass="qr", lineclass=None)


def sheet_context(*, operation_id=None, status_url: str) -> dict:
    operation = None
    if operation_id is not None:
        operation = Operation.objects.filter(pk=operation_id).only("id", "name").first()
        if operation is None:
            raise NotFound("Not found.")
    return {"operation": operation, "status_url": status_url, "qr": mark_safe(qr_svg(status_url))}  # noqa: S308 - segno's own SVG of our URL
