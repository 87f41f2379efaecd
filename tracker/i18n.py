"""The language of messages: Vietnamese (the default) or English, as the client's Accept-Language asks.

Messages are written once, both languages in one string, Vietnamese first: "Không có kế hoạch 7.
No such plan." (`split` finds where the English starts); the problem+json renderer
(tracker.errors) sends the part the client asked for. The English messages of marshmallow and
webargs ("Not a valid date.") are given a Vietnamese side here (`library_message`), so that every
field message exists in both languages. Pure Python: no Flask, no request.
"""

from __future__ import annotations

import re
import unicodedata

VI = "vi"
EN = "en"
DEFAULT = VI
SUPPORTED = (VI, EN)

# The letters of the Vietnamese alphabet that ASCII lacks: the vowels a ă â e ê i o ô ơ u ư y with
# each of the five tone marks (grave, acute, hook above, tilde, dot below) or none, less the six plain
# ASCII vowels (66), and đ; each in both cases. English text written by us never holds them, so they
# tell the Vietnamese part of a message from the English one.
_VOWELS = "aăâeêioôơuưy"
_TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
_LOWER = {unicodedata.normalize("NFC", vowel + tone) for vowel in _VOWELS for tone in _TONES} - set("aeiouy") | {"đ"}
VIETNAMESE_LETTERS = frozenset(_LOWER | {letter.upper() for letter in _LOWER})

# One item of Accept-Language (RFC 9110 §12.5.4): a language range (RFC 4647, `_` tolerated) and an
# optional weight with at most three decimals.
_LANGUAGE_RANGE = re.compile(
    r"^\s*(?P<range>\*|[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*)\s*(?:;\s*[qQ]\s*=\s*(?P<q>0(?:\.\d{0,3})?|1(?:\.0{0,3})?))?\s*$")


def negotiate(accept_language: str | None) -> str:
    """`vi` or `en` for an Accept-Language header: the supported language of highest weight; a
    range names a language by its primary subtag (`en-US` is English, `vi-VN` Vietnamese); `*`
    stands for each language the header does not name; equal weights go to the one named first
    (then Vietnamese); `q=0` refuses a language. Nothing acceptable, or no header: Vietnamese
    (English if Vietnamese alone was refused).
    Malformed items are skipped, not the whole header."""
    named: dict[str, tuple[float, int]] = {}  # language: (weight, position of the range that set it)
    exact: set[str] = set()
    star: tuple[float, int] | None = None
    for position, item in enumerate((accept_language or "").split(",")):
        found = _LANGUAGE_RANGE.match(item)
        if found is None:
            continue
        weight = float(found["q"]) if found["q"] else 1.0
        tag = found["range"].lower().replace("_", "-")
        if tag == "*":
            star = star or (weight, position)
            continue
        language = tag.split("-")[0]
        if language not in SUPPORTED:
            continue
        if tag == language:  # `en` decides for English over `en-GB`, whatever their order
            if language not in exact:
                named[language] = (weight, position)
                exact.add(language)
        elif language not in exact:
            previous = named.get(language)
            if previous is None or weight > previous[0]:
                named[language] = (weight, position)
    candidates = []
    for rank, language in enumerate(SUPPORTED):
        weight, position = named.get(language) or star or (0.0, 0)
        if weight > 0:
            candidates.append((-weight, position, rank, language))
    if candidates:
        return min(candidates)[3]
    # Nothing acceptable: the default, unless the client refused it by name (`vi;q=0`)
    return next((language for language in SUPPORTED if language not in named), DEFAULT)


def has_vietnamese(text: str) -> bool:
    return any(char in VIETNAMESE_LETTERS for char in unicodedata.normalize("NFC", text))


# Where a sentence ends: a full stop, question or exclamation mark (closing brackets or quotes may
# follow), then white space.
_SENTENCE_END = re.compile(r"[.!?…][)\]\"'”’»]*(?=\s)")
_CODE = re.compile(r"`[^`]*`")


def _without_code(text: str) -> str:
    """The text with `code spans` blanked (same length): names, values and parameters quoted
    there are data, in no language, whatever letters they hold."""
    return _CODE.sub(lambda span: "`" + "x" * (len(span.group()) - 2) + "`", text)


def split(message: str) -> tuple[str, str]:
    """(Vietnamese, English) parts of a message written "Vietnamese. English.".

    The English part is the longest run of whole sentences at the end with no Vietnamese letter
    (outside `code spans`): it starts at the first sentence end after the last Vietnamese letter.
    A message with no Vietnamese letter, or with nothing after its last Vietnamese sentence, cannot
    be split: it is both parts."""
    text = unicodedata.normalize("NFC", message).strip()
    bare = _without_code(text)
    last = max((index for index, char in enumerate(bare) if char in VIETNAMESE_LETTERS), default=None)
    if last is None:
        return text, text
    end = _SENTENCE_END.search(bare, last)
    if end is None:
        return text, text
    vietnamese, english = text[:end.end()].strip(), text[end.end():].strip()
    return (vietnamese, english) if english else (text, text)


def _template(english: str) -> re.Pattern:
    """A pattern matching a message made from a library's template (`{min}` etc. filled in)."""
    parts = re.split(r"\{(\w+)\}", english)
    pattern = "".join(re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)" for index, part in enumerate(parts))
    return re.compile(pattern + r"\Z", re.DOTALL)


# The English messages of marshmallow's fields and validators and of webargs, as they fill them in
# (Range's are spelled out whole), each with its Vietnamese and the English we send. Kept complete
# by tests/domain/test_messages.py, which makes every library message and looks for it here.
_LIBRARY: dict[str, tuple[str, str]] = {
    # marshmallow fields
    "Missing data for required field.": ("Thiếu trường bắt buộc.", "Missing data for required field."),
    "Field may not be null.": ("Không được để trống (null).", "Field may not be null."),
    "Invalid value.": ("Giá trị không hợp lệ.", "Invalid value."),
    "Invalid input.": ("Giá trị không hợp lệ.", "Invalid input."),
    "Invalid type.": ("Sai kiểu dữ liệu.", "Invalid type."),
    "Invalid input type.": ("Sai kiểu dữ liệu: cần một đối tượng JSON.", "Invalid input type: a JSON object is needed."),
    "Unknown field.": ("Trường không được hỗ trợ.", "Unknown field."),
    "Not a valid boolean.": ("Phải là true hoặc false.", "Not a valid boolean: use true or false."),
    "Not a valid date.": ("Ngày không hợp lệ; dùng dạng YYYY-MM-DD (ví dụ 2026-06-30).",
                          "Not a valid date; use YYYY-MM-DD (e.g. 2026-06-30)."),
    "Not a valid datetime.": ("Thời điểm không hợp lệ; dùng dạng RFC 3339 (ví dụ 2026-06-30T08:00:00Z).",
                              "Not a valid date-time; use RFC 3339 (e.g. 2026-06-30T08:00:00Z)."),
    "Not a valid time.": ("Giờ không hợp lệ; dùng dạng HH:MM:SS.", "Not a valid time; use HH:MM:SS."),
    "Not a valid {awareness} {obj_type}.": ("Giá trị thời gian không hợp lệ ({awareness} {obj_type}).",
                                            "Not a valid {awareness} {obj_type}."),
    "Not a valid integer.": ("Phải là số nguyên.", "Not a valid integer."),
    "Not a valid number.": ("Phải là số.", "Not a valid number."),
    "Number too large.": ("Số quá lớn.", "Number too large."),
    "Special numeric values (nan or infinity) are not permitted.": (
        "Không nhận giá trị đặc biệt (nan, vô cực).", "Special numeric values (nan or infinity) are not permitted."),
    "Not a valid string.": ("Phải là chuỗi ký tự.", "Not a valid string."),
    "Not a valid utf-8 string.": ("Chuỗi không phải UTF-8 hợp lệ.", "Not a valid utf-8 string."),
    "Not a valid list.": ("Phải là danh sách (mảng JSON).", "Not a valid list."),
    "Not a valid tuple.": ("Phải là danh sách (mảng JSON).", "Not a valid tuple."),
    "Not a valid mapping type.": ("Phải là đối tượng JSON.", "Not a valid mapping type."),
    "Not a valid email address.": ("Địa chỉ email không hợp lệ.", "Not a valid email address."),
    "Not a valid URL.": ("Địa chỉ URL không hợp lệ.", "Not a valid URL."),
    "Not a valid UUID.": ("UUID không hợp lệ.", "Not a valid UUID."),
    "Not a valid period of time.": ("Khoảng thời gian không hợp lệ.", "Not a valid period of time."),
    "Not a valid delimited list.": ("Danh sách phân cách không hợp lệ.", "Not a valid delimited list."),
    # marshmallow validators
    "Must be one of: {choices}.": ("Phải là một trong: {choices}.", "Must be one of: {choices}."),
    "Must be equal to {other}.": ("Phải bằng {other}.", "Must be equal to {other}."),
    "Shorter than minimum length {min}.": ("Ngắn hơn độ dài tối thiểu {min}.", "Shorter than minimum length {min}."),
    "Longer than maximum length {max}.": ("Dài hơn độ dài tối đa {max}.", "Longer than maximum length {max}."),
    "Length must be between {min} and {max}.": ("Độ dài phải từ {min} đến {max}.", "Length must be between {min} and {max}."),
    "Length must be {equal}.": ("Độ dài phải bằng {equal}.", "Length must be {equal}."),
    "String does not match expected pattern.": ("Chuỗi không đúng dạng quy định.", "String does not match expected pattern."),
    "One or more of the choices you made was not in: {choices}.": (
        "Có lựa chọn không thuộc: {choices}.", "One or more of the choices you made was not in: {choices}."),
    "One or more of the choices you made was in: {values}.": (
        "Có lựa chọn thuộc danh sách không được dùng: {values}.", "One or more of the choices you made was in: {values}."),
    "Must be greater than or equal to {min} and less than or equal to {max}.": (
        "Phải từ {min} đến {max}.", "Must be greater than or equal to {min} and less than or equal to {max}."),
    "Must be greater than {min} and less than or equal to {max}.": (
        "Phải lớn hơn {min} và không quá {max}.", "Must be greater than {min} and less than or equal to {max}."),
    "Must be greater than or equal to {min} and less than {max}.": (
        "Phải từ {min} và nhỏ hơn {max}.", "Must be greater than or equal to {min} and less than {max}."),
    "Must be greater than {min} and less than {max}.": (
        "Phải lớn hơn {min} và nhỏ hơn {max}.", "Must be greater than {min} and less than {max}."),
    "Must be greater than or equal to {min}.": ("Phải lớn hơn hoặc bằng {min}.", "Must be greater than or equal to {min}."),
    "Must be greater than {min}.": ("Phải lớn hơn {min}.", "Must be greater than {min}."),
    "Must be less than or equal to {max}.": ("Phải nhỏ hơn hoặc bằng {max}.", "Must be less than or equal to {max}."),
    "Must be less than {max}.": ("Phải nhỏ hơn {max}.", "Must be less than {max}."),
}
# Tried in this order: the fixed texts first, then the templates, longest first (so that Range's
# "… and less than …" is not read as "greater than {min}" with a long `min`).
_LIBRARY_PATTERNS = sorted(((_template(english), texts) for english, texts in _LIBRARY.items()),
                           key=lambda item: ("(?P<" in item[0].pattern, -len(item[0].pattern)))


def library_message(message: str) -> tuple[str, str] | None:
    """(Vietnamese, English) for an English message of marshmallow or webargs, else None."""
    for pattern, (vietnamese, english) in _LIBRARY_PATTERNS:
        found = pattern.match(message)
        if found is not None:
            values = found.groupdict()
            return vietnamese.format(**values), english.format(**values)
    return None


def parts(message: str) -> tuple[str, str]:
    """(Vietnamese, English) of any message: ours split, a library's translated."""
    return library_message(message.strip()) or split(message)


def localize(message: str | None, language: str) -> str | None:
    """The message in `language` (`vi` or `en`); None stays None."""
    if message is None:
        return None
    vietnamese, english = parts(message)
    return english if language == EN else vietnamese


def bilingual(message: str) -> str:
    """The message written as ours are, "Vietnamese. English." (a library's given its Vietnamese)."""
    vietnamese, english = parts(message)
    return message if vietnamese == english else f"{vietnamese} {english}"


def labelled(label: str, message: str) -> str:
    """`label`: message, the label (a value the client sent, say) quoted in each language's part."""
    quoted = "`" + label.replace("`", "'") + "`"
    vietnamese, english = parts(message)
    if vietnamese == english:
        return f"{quoted}: {message}"
    return f"{quoted}: {vietnamese} {quoted}: {english}"


# Problem titles: the HTTP reason phrase in English, these in Vietnamese.
STATUS_TITLES_VI = {
    400: "Yêu cầu không hợp lệ",
    401: "Chưa xác thực",
    403: "Không được phép",
    404: "Không tìm thấy",
    405: "Phương thức không được hỗ trợ",
    406: "Không có định dạng phù hợp",
    409: "Xung đột",
    410: "Không còn nữa",
    412: "Điều kiện không thỏa mãn",
    413: "Nội dung quá lớn",
    415: "Kiểu nội dung không được hỗ trợ",
    422: "Dữ liệu không hợp lệ",
    428: "Cần điều kiện kèm theo",
    429: "Quá nhiều yêu cầu",
    500: "Lỗi hệ thống",
    502: "Lỗi cổng kết nối",
    503: "Dịch vụ tạm thời không sẵn sàng",
    504: "Hết thời gian chờ",
}
