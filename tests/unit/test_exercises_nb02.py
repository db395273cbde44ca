"""Notebook 02's pure check (count_duplicates_and_losses) passes the reference and fails wrong answers."""

from collections import Counter

import pytest

from iotlab.course.exercises import nb02

check = nb02.check_count_duplicates_and_losses


def test_reference_passes():
    assert check(nb02.count_duplicates_and_losses).passed


@pytest.mark.parametrize("wrong", [
    lambda sent, processed: (len(processed) - len(sent), 0),
    lambda sent, processed: (len(processed) - len(set(processed)), len(sent) - len(processed)),
    lambda sent, processed: (sum(1 for n in Counter(processed).values() if n > 1), len(set(sent) - set(processed))),
    lambda sent, processed: (len(set(sent) - set(processed)), len(processed) - len(set(processed))),
    lambda sent, processed: [len(processed) - len(set(processed)), len(set(sent) - set(processed)), 0],
])
def test_wrong_answers_fail(wrong):
    result = check(wrong)
    assert not result.passed and not result.skipped


def test_stub_is_skipped():
    def stub(sent, processed):
        raise NotImplementedError()

    assert check(stub).skipped
