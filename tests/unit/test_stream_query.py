"""The stream's query string (docs/design.md §5): `since` is a seq in the range every API integer has, `steps` a flag.

A `since` the catalog could not hold would fail in the database; digits other than ASCII ones are
not numbers a client meant. Each bad value is a ValueError, which the socket answers with 400 / 4400.
"""

from __future__ import annotations

import pytest

from windtunnel_dash.api.bounds import MAX_INT
from windtunnel_dash.api.stream import _parse_query


@pytest.mark.parametrize(("query", "parsed"), [
    ({}, (0, False)), ({"since": ""}, (0, False)), ({"since": " 12 "}, (12, False)),
    ({"since": str(MAX_INT), "steps": "1"}, (MAX_INT, True)), ({"steps": "no"}, (0, False)),
])
def test_good_queries(query, parsed):
    assert _parse_query(query) == parsed


@pytest.mark.parametrize("since", [str(MAX_INT + 1), "9" * 5000, "-1", "1e5", "+1", "0x10", "\u00b2", "\u0663", "1\x00"])
def test_since_out_of_range_or_not_ascii_digits_is_refused(since):
    with pytest.raises(ValueError, match="since must be an integer from 0 to"):
        _parse_query({"since": since})


def test_a_bad_steps_flag_is_refused():
    with pytest.raises(ValueError, match="steps must be 1 or 0"):
        _parse_query({"steps": "2"})
