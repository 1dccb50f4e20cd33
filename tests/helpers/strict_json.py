"""JSON as a strict reader takes it: NaN, Infinity and -Infinity, which Python's json
module accepts by default, fail the test instead."""

from __future__ import annotations

import json


def strict_loads(text: str, where: str = "JSON"):
    def refuse(name):
        raise AssertionError(f"{where}: {name} is not JSON")

    return json.loads(text, parse_constant=refuse)
