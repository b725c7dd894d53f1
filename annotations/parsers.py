"""The API's JSON parser: DRF's, with a body nested too deeply for Python's JSON decoder (a
RecursionError, which DRF does not catch) a 400 like any other malformed JSON instead of a 500, and
nesting bounded so that nothing after the parser (DRF's JSONField re-encodes what it is given,
recursively) meets one either. No request of this API nests more than a few levels."""
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 64


def json_depth_exceeds(value, limit: int) -> bool:
    """Whether `value` (parsed JSON) nests lists and objects more than `limit` deep; no recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested more than {MAX_DEPTH} levels deep") from None
        if json_depth_exceeds(data, MAX_DEPTH):
            raise ParseError(f"JSON parse error - nested more than {MAX_DEPTH} levels deep")
        return data
