"""Notebook 09's pure check (compare_rows) passes the reference and fails wrong answers; the panel check's
rendering of Grafana's placeholders, without the lab."""

import math

import pytest

from iotlab.cassandra import render_query
from iotlab.course.exercises import nb09


def stub(*_args):
    raise NotImplementedError()


def test_reference_passes_and_stub_is_skipped():
    assert nb09.check_compare_rows(nb09.compare_rows).passed
    result = nb09.check_compare_rows(stub)
    assert result.skipped and not result.passed


def key_of(row, key):
    return tuple(row.get(field) for field in key)


def by_position(actual, expected, key, tolerance=1e-9):
    """Matches rows by position, as if both lists were sorted the same way."""
    found = {"missing": [], "extra": [], "duplicated": [], "different": set()}
    for got, want in zip(actual, expected):
        for field in set(got) | set(want):
            if got.get(field) != want.get(field):
                found["different"].add((key_of(want, key), field))
    found["missing"] = sorted(key_of(row, key) for row in expected[len(actual):])
    found["extra"] = sorted(key_of(row, key) for row in actual[len(expected):])
    return {**found, "different": sorted(found["different"])}


def duplicates_are_extra(actual, expected, key, tolerance=1e-9):
    """A row read twice counted as an extra row, not a duplicate."""
    found = nb09.compare_rows(actual, expected, key, tolerance)
    return {**found, "extra": sorted(set(found["extra"]) | set(found["duplicated"])), "duplicated": []}


def exact_floats(actual, expected, key, tolerance=1e-9):
    """Floats compared with ==: the last bits of an average differ when it is computed in another order."""
    return nb09.compare_rows(actual, expected, key, tolerance=0.0)


def fixed_tolerance(actual, expected, key, tolerance=1e-9):
    """Ignores the tolerance it is given."""
    return nb09.compare_rows(actual, expected, key)


def fields_of_actual_only(actual, expected, key, tolerance=1e-9):
    """A field missing from a row read back goes unnoticed."""
    wanted = {key_of(row, key): row for row in expected}
    found = nb09.compare_rows(actual, expected, key, tolerance)
    different = set()
    for row in actual:
        want = wanted.get(key_of(row, key))
        for field in row if want is not None else ():
            a, b = row[field], want.get(field)
            same = (math.isclose(a, b, rel_tol=0, abs_tol=tolerance) if isinstance(a, (int, float))
                    and isinstance(b, (int, float)) else a == b)
            if not same:
                different.add((key_of(row, key), field))
    return {**found, "different": sorted(different)}


def types_must_match(actual, expected, key, tolerance=1e-9):
    """An integer 21 and a float 21.0 called different."""
    found = nb09.compare_rows(actual, expected, key, tolerance)
    wanted = {key_of(row, key): row for row in expected}
    extra = {(key_of(row, key), field) for row in actual if key_of(row, key) in wanted
             for field, value in row.items() if type(value) is not type(wanted[key_of(row, key)].get(field, value))}
    return {**found, "different": sorted(set(found["different"]) | extra)}


def not_sorted(actual, expected, key, tolerance=1e-9):
    """The right keys, in the order they were found."""
    seen = [key_of(row, key) for row in actual]
    found = nb09.compare_rows(actual, expected, key, tolerance)
    return {**found, "missing": [key_of(row, key) for row in expected if key_of(row, key) not in seen]}


def per_key_not_per_field(actual, expected, key, tolerance=1e-9):
    """Reports a differing row once, without saying which field differs."""
    found = nb09.compare_rows(actual, expected, key, tolerance)
    return {**found, "different": sorted({(k, "*") for k, _ in found["different"]})}


def some_fields_only(actual, expected, key, tolerance=1e-9):
    """Compares the fields a learner thinks of first (counts, averages, status), not every field of the rows."""
    fields = ("count", "avg_temp", "avg_humidity", "status", "temperature", "score")
    found = nb09.compare_rows([{f: v for f, v in row.items() if f in fields or f in key} for row in actual],
                              [{f: v for f, v in row.items() if f in fields or f in key} for row in expected],
                              key, tolerance)
    return found


@pytest.mark.parametrize("wrong", [by_position, duplicates_are_extra, exact_floats, fixed_tolerance,
                                   fields_of_actual_only, types_must_match, not_sorted, per_key_not_per_field,
                                   some_fields_only])
def test_compare_rows_wrong_answers_fail(wrong):
    result = nb09.check_compare_rows(wrong)
    assert not result.passed and not result.skipped


def test_compare_rows_examples():
    expected = [{"device_id": "d1", "avg": 1.0}, {"device_id": "d2", "avg": 2.0}]
    actual = [{"device_id": "d2", "avg": 2.5}, {"device_id": "d3", "avg": 3.0}, {"device_id": "d3", "avg": 3.0}]
    assert nb09.compare_rows(actual, expected, ("device_id",)) == {
        "missing": [("d1",)], "extra": [("d3",)], "duplicated": [("d3",)], "different": [(("d2",), "avg")]}
    assert nb09.compare_rows(actual, expected, ("device_id",), tolerance=0.5)["different"] == []


def test_render_query_replaces_variables_and_time_macros_with_epoch_milliseconds():
    cql = "SELECT * FROM ${keyspace}.t WHERE device_id = '$device' AND at >= $__timeFrom AND at < $__timeTo"
    assert render_query(cql, {"keyspace": "ks", "device": "d1"}, "2025-11-05T00:00:00Z", "2025-11-05T00:00:01.5Z") == (
        "SELECT * FROM ks.t WHERE device_id = 'd1' AND at >= 1762300800000 AND at < 1762300801500")


def test_render_query_refuses_an_unknown_placeholder():
    with pytest.raises(KeyError):
        render_query("SELECT * FROM ${ks}.t", {"keyspace": "ks"}, 0, 1)


def test_the_reference_panel_lists_eight_day_buckets_and_no_order():
    cql = nb09.device_alerts_panel()
    assert cql.count("todate(") == nb09.PANEL_DAYS and "ORDER BY" not in cql and "ALLOW FILTERING" not in cql
    rendered = render_query(cql, {"keyspace": "ks", "device": "d"}, 0, 1)
    assert nb09._panel_rule(rendered) is None
    assert "ALLOW FILTERING" in nb09._panel_rule(rendered + " ALLOW FILTERING")
    assert "device_id" in nb09._panel_rule(rendered.replace("device_id = 'd' AND ", ""))
    assert "alerts_by_device_day" in nb09._panel_rule(rendered.replace("alerts_by_device_day", "alerts_by_day"))


def test_cql_words_ignore_spacing_case_comments_and_strings():
    from iotlab.course.checks import allows_filtering, cql_words

    assert cql_words("select * FROM t WHERE a = 'allow filtering' -- allow filtering") == [
        "SELECT", "*", "FROM", "T", "WHERE", "A", "="]
    assert allows_filtering("SELECT * FROM t ALLOW  FILTERING")
    assert allows_filtering("SELECT * FROM t allow\n\tfiltering")
    assert allows_filtering("SELECT * FROM t ALLOW /* why not */ FILTERING")
    assert not allows_filtering("SELECT * FROM t WHERE note = 'ALLOW FILTERING'")
    assert not allows_filtering("SELECT * FROM t -- ALLOW FILTERING")
