"""The throttling rule: free failures, then delays that double up to a cap."""

from hypothesis import given, strategies as st

from tracker.domain.sign_in import delay_after


def test_delays_double_after_the_free_failures():
    assert [delay_after(n, free=3, cap=300) for n in range(12)] == [0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 300]


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10), st.integers(min_value=1, max_value=86400))
def test_delay_never_shrinks_and_never_passes_the_cap(failures, free, cap):
    delay = delay_after(failures, free=free, cap=cap)
    assert 0 <= delay <= cap
    assert delay_after(failures + 1, free=free, cap=cap) >= delay
