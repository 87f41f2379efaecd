import pytest

from tracker.domain.text import fold, like_pattern


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Chuyển đổi số", "chuyen doi so"),
        ("ĐỔI MỚI sáng tạo", "doi moi sang tao"),
        ("  Phạm   Minh\tĐức ", "pham minh duc"),
        ("Nghị quyết 57-NQ/TW", "nghi quyet 57-nq/tw"),
        (None, ""),
    ],
)
def test_fold(text, folded):
    assert fold(text) == folded


def test_fold_is_the_same_for_composed_and_decomposed_input():
    import unicodedata

    text = "Ủy ban Mặt trận Tổ quốc"
    assert fold(unicodedata.normalize("NFD", text)) == fold(text) == "uy ban mat tran to quoc"


def test_like_pattern_escapes_wildcards():
    assert like_pattern("nguyen_an 100%") == "%nguyen\\_an 100\\%%"
