"""What an evidence file may be: its name and its type, judged by content and by extension.

Pure Python: it looks at a file's first bytes (and, for ZIP-based formats, at the member names
the caller lists), never at the client's Content-Type header.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_NAME_LENGTH = 255


class EvidenceRejected(Exception):
    def __init__(self, code: str, detail: str, **extra):
        super().__init__(detail)
        self.code, self.detail, self.extra = code, detail, extra


@dataclass(frozen=True)
class FileKind:
    name: str
    media_type: str


PDF = FileKind("pdf", "application/pdf")
OLE2 = FileKind("ole2", "application/x-ole-storage")
ZIP = FileKind("zip", "application/zip")
DOCX = FileKind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
XLSX = FileKind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
PPTX = FileKind("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation")
ODT = FileKind("odt", "application/vnd.oasis.opendocument.text")
ODS = FileKind("ods", "application/vnd.oasis.opendocument.spreadsheet")
ODP = FileKind("odp", "application/vnd.oasis.opendocument.presentation")
JPEG = FileKind("jpeg", "image/jpeg")
PNG = FileKind("png", "image/png")
WEBP = FileKind("webp", "image/webp")
TEXT = FileKind("text", "text/plain; charset=utf-8")
CSV = FileKind("csv", "text/csv; charset=utf-8")

# extension -> what its content must be
ALLOWED: dict[str, tuple[FileKind, ...]] = {
    "pdf": (PDF,),
    "doc": (OLE2,), "xls": (OLE2,), "ppt": (OLE2,),
    "docx": (DOCX,), "xlsx": (XLSX,), "pptx": (PPTX,),
    "odt": (ODT,), "ods": (ODS,), "odp": (ODP,),
    "jpg": (JPEG,), "jpeg": (JPEG,), "png": (PNG,), "webp": (WEBP,),
    "txt": (TEXT,), "csv": (TEXT,),
    "zip": (ZIP, DOCX, XLSX, PPTX, ODT, ODS, ODP),
}

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a first member, or an empty archive
_EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")
_ACTIVE_MARKERS = (b"<!doctype html", b"<html", b"<script", b"<svg", b"<?xml", b"<iframe", b"<body", b"<head", b"<meta", b"<a ", b"<img")
# HTML inside a binary file's sample (a PDF that a browser would also render as a page). Only the
# sample is read: cheap, and over a whole compressed file such short byte runs would turn up by chance.
_HTML_TAG = re.compile(rb"<(?:!doctype\s+html|html|head|body|script|svg|iframe|object|embed|meta)[\s/>]", re.IGNORECASE)


def check_filename(raw: str | None) -> tuple[str, str]:
    """The display name (NFC) and its lower-case extension; or EvidenceRejected."""
    if not raw:
        raise EvidenceRejected("evidence.filename_missing", "Tệp không có tên. The file has no name.")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in raw):
        raise EvidenceRejected(
            "evidence.filename_control_chars",
            "Tên tệp chứa ký tự điều khiển. The file name contains control characters.",
        )
    name = unicodedata.normalize("NFC", raw).strip()
    if len(name) > MAX_NAME_LENGTH:
        raise EvidenceRejected(
            "evidence.filename_too_long",
            f"Tên tệp dài quá {MAX_NAME_LENGTH} ký tự. The file name is longer than {MAX_NAME_LENGTH} characters.",
        )
    if "/" in name or "\\" in name or name in {".", ".."} or name.startswith("."):
        raise EvidenceRejected(
            "evidence.filename_path",
            "Tên tệp không được chứa đường dẫn. The file name must not contain a path.",
        )
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem.strip():
        raise EvidenceRejected("evidence.type_not_allowed", "Tệp phải có phần mở rộng. The file needs an extension.", allowed=sorted(ALLOWED))
    return name, extension.lower()


def sniff(head: bytes, zip_members: list[str] | None = None, zip_mimetype: bytes | None = None) -> FileKind | str:
    """The kind of content, from its first bytes; a string names a refused kind."""
    lowered = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(_EXECUTABLE_MAGIC):
        return "executable"
    if head.startswith(b"%PDF-"):
        return "polyglot" if _HTML_TAG.search(head) else PDF
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE2
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(ZIP_MAGIC):
        return _zip_kind(zip_members or [], zip_mimetype)
    if any(lowered.startswith(marker) for marker in _ACTIVE_MARKERS) or b"<script" in head.lower():
        return "active_content"
    if b"\x00" in head:
        return "binary"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # a multi-byte character cut at the sample's end is fine
            return "binary"
    return TEXT


def _zip_kind(members: list[str], mimetype: bytes | None) -> FileKind:
    if mimetype:
        for kind in (ODT, ODS, ODP):
            if mimetype.strip() == kind.media_type.encode():
                return kind
    names = set(members)
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return DOCX
        if any(n.startswith("xl/") for n in names):
            return XLSX
        if any(n.startswith("ppt/") for n in names):
            return PPTX
    return ZIP


def check_content(extension: str, kind: FileKind | str) -> FileKind:
    """The stored media type for an allowed (extension, content) pair; or EvidenceRejected."""
    if kind == "executable":
        raise EvidenceRejected("evidence.executable", "Không nhận tệp thực thi. Executable files are refused.", detected="executable")
    if kind == "polyglot":
        raise EvidenceRejected(
            "evidence.polyglot",
            "Tệp PDF chứa mã HTML/script. The PDF also holds HTML or script and is refused.",
            detected="polyglot",
        )
    if kind == "active_content":
        raise EvidenceRejected(
            "evidence.active_content",
            "Không nhận tệp HTML/SVG/script. HTML, SVG and script content is refused.",
            detected="active_content",
        )
    if extension not in ALLOWED:
        raise EvidenceRejected(
            "evidence.type_not_allowed",
            f"Không nhận tệp .{extension}. Files of type .{extension} are not accepted.",
            allowed=sorted(ALLOWED),
        )
    if not isinstance(kind, FileKind) or kind not in ALLOWED[extension]:
        detected = kind.name if isinstance(kind, FileKind) else kind
        raise EvidenceRejected(
            "evidence.type_mismatch",
            f"Nội dung tệp ({detected}) không khớp phần mở rộng .{extension}. The content does not match the extension.",
            detected=detected,
        )
    if extension == "csv":
        return CSV
    return kind
