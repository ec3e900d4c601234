"""The one request body format of the REST API: JSON, decoded with the limits of ``common.limits``."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from common import limits


class JSONParser(parsers.JSONParser):
    """Refuses, as a 400, what DRF's parser passes on to fail later as a 500: documents nested past
    the decoder's recursion limit, numbers that decode to infinity, NUL characters and unpaired
    surrogates (in keys too)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        raw = stream.read() if stream is not None else b""
        try:
            return limits.loads(raw.decode(encoding))
        except UnicodeDecodeError as exc:
            raise ParseError(f"The body is not valid {encoding}: {exc.reason}.") from None
        except limits.InputRejected as exc:
            raise ParseError(exc.message, code=exc.code) from None
