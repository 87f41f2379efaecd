"""Messages in two languages: every message of tracker/ splits into its Vietnamese and its English
part (the API sends the one the client's Accept-Language asks for), every message marshmallow and
webargs can give a client has its Vietnamese, and Accept-Language is read as RFC 9110 says."""

from __future__ import annotations

import ast
import datetime as dt
import enum
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from marshmallow import Schema, ValidationError, fields, validate
from webargs.fields import DelimitedList

from tracker.i18n import (EN, VI, VIETNAMESE_LETTERS, bilingual, has_vietnamese, labelled, library_message, localize,
                          negotiate, parts, split)

ROOT = Path(__file__).resolve().parents[2]
TRACKER = ROOT / "tracker"

# Text that is not a message to a client, with why; whole files or folders by path prefix.
NOT_MESSAGES_UNDER = {
    "tracker/documents/": "documents for print (Word, Excel): Vietnamese only, as the offices file them",
    "tracker/services/notices.py": "the words of notifications: stored data, in Vietnamese as the offices write them",
    "tracker/services/mail.py": "the words of e-mails: mails are written in Vietnamese",
    "tracker/domain/mail_kinds.py": "the names of the kinds of mail, each paired with its English",
    "tracker/jobs/reminders.py": "the words of the daily reminder mails, in Vietnamese as the offices write them",
    "tracker/i18n.py": "the Vietnamese sides of marshmallow's and webargs's messages, each paired with its English",
}
# Single literals, by file and a piece of their text.
NOT_MESSAGES = [
    ("tracker/api/reports.py", 'Các cột "Nhiệm vụ của đơn vị"', "a note printed under the summary sheet of an export"),
    ("tracker/api/reports.py", "Cách đánh giá: theo đường thẳng", "a note printed under the indicator sheet of an export"),
    ("tracker/cli.py", "A province since 1 July 2025", "command-line help in English; the province name is an example"),
]

_ENDS_A_SENTENCE = re.compile(r"[.!?…][)\]\"'”’»`]*\s*\Z")
# A Vietnamese sentence without a tone mark would pass for English, and an English sentence with a
# Vietnamese name for Vietnamese; common words of the other language tell them.
_VIETNAMESE_WITHOUT_MARKS = {"xem", "theo", "cho", "khi", "trong", "hay", "hoac", "va", "cua", "la", "mot", "tren", "nay",
                             "chi", "khong", "duoc", "co"}
_ENGLISH = {"the", "is", "are", "must", "not", "only", "this", "with", "be", "cannot", "was", "has", "its", "of", "and", "or"}


def _literals(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of the string literals of a module, but docstrings; an f-string as one text,
    its placeholders as `0`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip.add(id(first.value))
        if isinstance(node, ast.JoinedStr):
            skip.update(id(part) for part in ast.walk(node) if part is not node)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value
        elif isinstance(node, ast.JoinedStr):
            yield node.lineno, "".join(v.value if isinstance(v, ast.Constant) else "0" for v in node.values)


def _messages() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(TRACKER.rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if any(name.startswith(prefix) for prefix in NOT_MESSAGES_UNDER):
            continue
        for line, text in _literals(path):
            if not has_vietnamese(text) or not _ENDS_A_SENTENCE.search(text):
                continue
            if any(name == file and piece in text for file, piece, _ in NOT_MESSAGES):
                continue
            found.append((name, line, text))
    return found


MESSAGES = _messages()


def _words(text: str) -> set[str]:
    return {word.lower() for word in re.findall(r"\w+", re.sub(r"`[^`]*`", "", text))}


def test_the_walk_finds_the_messages():
    assert len(MESSAGES) > 250
    assert any("Không có nhiệm vụ được giao 0. No such assignment." == text for _, _, text in MESSAGES)


@pytest.mark.parametrize(("where", "line", "text"), MESSAGES, ids=[f"{w}:{n}" for w, n, _ in MESSAGES])
def test_every_message_splits_into_vietnamese_then_english(where, line, text):
    vietnamese, english = split(text)
    assert vietnamese != english, f"{where}:{line}: no English part after the Vietnamese: {text!r}"
    assert has_vietnamese(vietnamese)
    assert english and not has_vietnamese(english), f"{where}:{line}: Vietnamese letters in the English part: {text!r}"
    assert not _words(english) & _VIETNAMESE_WITHOUT_MARKS, f"{where}:{line}: Vietnamese words in the English part: {english!r}"
    assert not _words(vietnamese) & _ENGLISH, f"{where}:{line}: English words in the Vietnamese part: {vietnamese!r}"


def test_the_allow_lists_name_literals_that_exist():
    for prefix in NOT_MESSAGES_UNDER:
        assert (ROOT / prefix).exists(), prefix
    for file, piece, _ in NOT_MESSAGES:
        assert any(piece in text for _, text in _literals(ROOT / file)), (file, piece)


# --- split -----------------------------------------------------------------------------------


def test_the_vietnamese_letters():
    assert len(VIETNAMESE_LETTERS) == 134  # 67 lower-case: 12 vowels x 6 tones, less 6 plain, and đ; and their capitals
    assert {"đ", "Đ", "ă", "ơ", "ư", "ễ", "Ỵ", "à", "é"} <= VIETNAMESE_LETTERS
    assert not {"a", "d", "D", "y", "ç", "ñ", "ü", "–"} & VIETNAMESE_LETTERS


@pytest.mark.parametrize(("message", "vietnamese", "english"), [
    ("Không có kế hoạch 7. No such plan.", "Không có kế hoạch 7.", "No such plan."),
    # several sentences on each side
    ("Nhiệm vụ đã kết thúc. Không sửa được. The assignment is closed. It cannot change.",
     "Nhiệm vụ đã kết thúc. Không sửa được.", "The assignment is closed. It cannot change."),
    # an abbreviation, a decimal and a parenthesis in the English part
    ("Giá trị gửi lên không lưu được (ví dụ ký tự NUL). A value cannot be stored (e.g. a NUL, 1.5 MiB).",
     "Giá trị gửi lên không lưu được (ví dụ ký tự NUL).", "A value cannot be stored (e.g. a NUL, 1.5 MiB)."),
    # a Vietnamese sentence ending in code, and English asking a question
    ("Dữ liệu không hợp lệ, xem `errors`. Invalid; see `errors`?", "Dữ liệu không hợp lệ, xem `errors`.", "Invalid; see `errors`?"),
    # values the client sent, quoted as code, hold any letters without moving the boundary
    ("Tham số không được hỗ trợ: `tên`. Unknown parameter: `tên`.", "Tham số không được hỗ trợ: `tên`.", "Unknown parameter: `tên`."),
    # decomposed letters (NFD) count as the composed ones
    ("Không co\u0301. Nothing.", "Không có.", "Nothing."),
    # quotes closing the Vietnamese sentence
    ('Chọn "Tổng cộng." Choose "Total."', 'Chọn "Tổng cộng."', 'Choose "Total."'),
])
def test_split(message, vietnamese, english):
    assert split(message) == (vietnamese, english)


@pytest.mark.parametrize("message", [
    "No such plan.",  # English only
    "Phải sau 01/02/2026.",  # Vietnamese only
    "Không có kế hoạch 7.No such plan.",  # no space: not a sentence boundary
    "Không có kế hoạch. Không có Đà Nẵng.",  # Vietnamese to the end
    "",
])
def test_split_falls_back_to_the_whole_text(message):
    assert split(message) == (message, message)


def test_localize_picks_the_part():
    message = "Không có kế hoạch 7. No such plan."
    assert localize(message, VI) == "Không có kế hoạch 7."
    assert localize(message, EN) == "No such plan."
    assert localize("Phải sau 01/02/2026.", EN) == "Phải sau 01/02/2026."
    assert localize(None, EN) is None


def test_labelled_quotes_the_label_in_each_part():
    message = labelled("tên`x", "Phải trên một dòng. Must be on one line.")
    assert message == "`tên'x`: Phải trên một dòng. `tên'x`: Must be on one line."
    assert split(message) == ("`tên'x`: Phải trên một dòng.", "`tên'x`: Must be on one line.")
    assert localize(labelled("zz", "Must be one of: a, b."), VI) == "`zz`: Phải là một trong: a, b."
    assert labelled("zz", "Something else.") == "`zz`: Something else."


# --- the libraries' messages -------------------------------------------------------------------


class _Colour(enum.Enum):
    RED = "red"


class _Thing(Schema):
    name = fields.String(required=True)
    note = fields.String(allow_none=False)


def _fail(message: str):
    raise ValidationError(message)


def _raise(field: fields.Field, value) -> Callable[[], object]:
    return lambda: field.deserialize(value)


# Every message a client can meet from marshmallow's fields, schemas and validators, and webargs,
# made for real: a new library version that changes a text fails here.
LIBRARY_ERRORS = {
    "required": lambda: _Thing().load({}),
    "null": lambda: _Thing().load({"name": "x", "note": None}),
    # marshmallow 4 keeps this text for validators that return False, which it no longer calls so
    "validator_failed": lambda: _fail(fields.Field.default_error_messages["validator_failed"]),
    "unknown": lambda: _Thing().load({"name": "x", "colour": 1}),
    "schema type": lambda: _Thing().load(1),
    "nested many type": _raise(fields.Nested(_Thing(), many=True), 1),
    "boolean": _raise(fields.Boolean(), "x"),
    "date": _raise(fields.Date(), "2026-13-01"),
    "datetime": _raise(fields.DateTime(), "x"),
    "time": _raise(fields.Time(), "x"),
    "aware datetime": _raise(fields.AwareDateTime(), "2026-01-01T00:00:00"),
    "naive datetime": _raise(fields.NaiveDateTime(), "2026-01-01T00:00:00Z"),
    "integer": _raise(fields.Integer(), "x"),
    "number": _raise(fields.Float(), "x"),
    "too large": _raise(fields.Integer(), float("inf")),
    "special": _raise(fields.Float(), "nan"),
    "decimal special": _raise(fields.Decimal(), "nan"),
    "string": _raise(fields.String(), 1),
    "utf-8": _raise(fields.String(), b"\xff"),
    "list": _raise(fields.List(fields.String()), 1),
    "tuple": _raise(fields.Tuple((fields.String(),)), 1),
    "mapping": _raise(fields.Dict(), 1),
    "email": _raise(fields.Email(), "x"),
    "url": _raise(fields.URL(), "x"),
    "uuid": _raise(fields.UUID(), "x"),
    "timedelta": _raise(fields.TimeDelta(), "x"),
    "enum": _raise(fields.Enum(_Colour), "x"),
    "delimited list": _raise(DelimitedList(fields.String()), 1),
    "one of": lambda: validate.OneOf(["a", "b"])("c"),
    "equal": lambda: validate.Equal(1)(2),
    "length min": lambda: validate.Length(min=2)("a"),
    "length max": lambda: validate.Length(max=1)("ab"),
    "length between": lambda: validate.Length(2, 3)("a"),
    "length equal": lambda: validate.Length(equal=2)("a"),
    "regexp": lambda: validate.Regexp(r"\d")("a"),
    "range min": lambda: validate.Range(min=1)(0),
    "range max": lambda: validate.Range(max=1)(2),
    "range both": lambda: validate.Range(2000, 2100)(1900),
    "range exclusive min": lambda: validate.Range(min=1, min_inclusive=False)(1),
    "range exclusive max": lambda: validate.Range(max=1, max_inclusive=False)(1),
    "range exclusive min, inclusive max": lambda: validate.Range(1, 2, min_inclusive=False)(1),
    "range inclusive min, exclusive max": lambda: validate.Range(1, 2, max_inclusive=False)(2),
    "range exclusive both": lambda: validate.Range(1, 2, min_inclusive=False, max_inclusive=False)(2),
    "range of dates": lambda: validate.Range(min=dt.date(2026, 1, 1))(dt.date(2025, 1, 1)),
    "contains only": lambda: validate.ContainsOnly(["a"])(["b"]),
    "contains none of": lambda: validate.ContainsNoneOf(["a"])(["a"]),
    "none of": lambda: validate.NoneOf(["a"])("a"),
    "predicate": lambda: validate.Predicate("isdigit")("x"),
    "url validator": lambda: validate.URL()("x"),
    "email validator": lambda: validate.Email()("x"),
}


def _messages_of(make: Callable[[], object]) -> list[str]:
    with pytest.raises(ValidationError) as raised:
        make()
    messages = raised.value.messages
    found: list[str] = []

    def collect(value):
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        else:
            for item in value:
                collect(item)

    collect(messages)
    return found


@pytest.mark.parametrize("case", LIBRARY_ERRORS)
def test_every_library_message_has_its_vietnamese(case):
    for message in _messages_of(LIBRARY_ERRORS[case]):
        translated = library_message(message)
        assert translated is not None, f"no Vietnamese for {message!r}: add it to tracker.i18n._LIBRARY"
        vietnamese, english = translated
        assert has_vietnamese(vietnamese) and not has_vietnamese(english), translated
        assert split(bilingual(message)) == translated


def test_library_messages_keep_their_values():
    assert parts("Must be one of: json, csv, xlsx.") == ("Phải là một trong: json, csv, xlsx.", "Must be one of: json, csv, xlsx.")
    assert parts("Must be greater than or equal to 2000 and less than or equal to 2100.") == (
        "Phải từ 2000 đến 2100.", "Must be greater than or equal to 2000 and less than or equal to 2100.")
    assert parts("Must be greater than or equal to 1.") == ("Phải lớn hơn hoặc bằng 1.", "Must be greater than or equal to 1.")
    assert parts("Not a valid date.") == ("Ngày không hợp lệ; dùng dạng YYYY-MM-DD (ví dụ 2026-06-30).",
                                          "Not a valid date; use YYYY-MM-DD (e.g. 2026-06-30).")
    # ours are never read as a library's
    assert parts("Phải trên một dòng. Must be on one line.") == ("Phải trên một dòng.", "Must be on one line.")


# --- Accept-Language ---------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "language"), [
    (None, VI),
    ("", VI),
    ("vi", VI),
    ("vi-VN", VI),
    ("en", EN),
    ("EN", EN),
    ("en-US", EN),
    ("en_GB", EN),
    ("en-US,en;q=0.9", EN),
    ("vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7", VI),
    ("vi;q=0.1, en;q=0.9", EN),
    ("vi;q=0.1 , en ; q=0.9", EN),
    ("fr", VI),  # unsupported: the default
    ("fr, en;q=0.5", EN),  # the supported one the client takes
    ("fr, vi;q=0.2, en;q=0.1", VI),
    ("en;q=0", VI),  # refused, and nothing else named: the default
    ("vi;q=0, en;q=0", VI),
    ("vi;q=0", EN),  # Vietnamese refused: the other one
    ("vi;q=0, *", EN),
    ("en;q=0, *", VI),
    ("*", VI),
    ("en;q=0.5, *", VI),  # `*` (weight 1) stands for Vietnamese, not named
    ("en, vi", EN),  # equal weights: the one named first
    ("vi, en", VI),
    ("en;q=0.8, vi;q=0.8", EN),
    ("en-GB;q=0.2, en;q=0.9, vi;q=0.5", EN),  # `en` decides for English
    ("en;q=0.3, en-GB;q=0.9, vi;q=0.5", VI),
    ("en-GB;q=0.9, en-US;q=0.1, vi;q=0.5", EN),  # the best of the regional ones
    ("en;q=2, vi;q=0.5", VI),  # weights above 1 are malformed: that item is skipped
    ("en;q=abc", VI),
    ("x-klingon-very-long-tag, en", EN),
    ("en;q=0.001", EN),
    ("vi-VN;q=0.2, en-US;q=0.3", EN),
    (",,, en ,", EN),
])
def test_negotiate(header, language):
    assert negotiate(header) == language
