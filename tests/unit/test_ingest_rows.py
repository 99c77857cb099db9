"""The named row contracts (artifacts/ingest_rows.py) match the catalog's tables."""

from __future__ import annotations

from windtunnel_dash.artifacts.ingest_rows import (
    NEW_RUN_VALUES,
    RUN_LINE_VALUES,
    AssertionLineRow,
    InstanceLineRow,
    StepLineRow,
    numbered_instances,
)
from windtunnel_dash.catalog import writes


def test_each_line_row_names_every_column_of_its_table_key_first() -> None:
    for table, row in ((writes.INSTANCES, InstanceLineRow), (writes.STEPS, StepLineRow),
                       (writes.ASSERTIONS, AssertionLineRow)):
        assert set(row._fields) == {c.name for c in table.columns}, table.name
        assert row._fields[:2] == tuple(c.name for c in table.primary_key.columns), table.name


def test_the_run_values_are_the_run_rows_columns() -> None:
    assert set(NEW_RUN_VALUES) == set(writes.RUN_COLUMNS)
    assert set(RUN_LINE_VALUES) <= set(NEW_RUN_VALUES)


def test_numbering_instance_rows_names_an_unnamed_instance_after_its_seq() -> None:
    parsed = InstanceLineRow(0, 0, "", None, None, True, "passed", 0, None, 1.0, 1.0, -1.0, None, None, None, 10, 5)
    named = parsed._replace(instance_id="a", pos=20)
    first, second = map(InstanceLineRow._make, numbered_instances([parsed, named], run_key=3, head=6))
    assert first == parsed._replace(run_key=3, seq=7, instance_id="#7")
    assert second == named._replace(run_key=3, seq=8)
