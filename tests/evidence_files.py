"""Small real files of each kind, made on the fly, for evidence tests."""

import io
import random
import struct
import zipfile


def pdf(text: str = "Báo cáo") -> bytes:
    body = f"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% {text}\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    return body.encode("utf-8")


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def odt() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'></svg>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120
CSV = "Đơn vị,Tiến độ\nPhòng Nội vụ,80\n".encode("utf-8")


# --- archives, and archives built to hurt -------------------------------------------------------

MiB = 1024 * 1024
DOCX_SKELETON = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}


def archive(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zipped:
        for name, content in members.items():
            zipped.writestr(name, content)
    return buffer.getvalue()


def xlsx() -> bytes:
    return archive({
        "[Content_Types].xml": b"<Types/>",
        "xl/workbook.xml": b"<workbook><sheets><sheet name='Tien do' sheetId='1'/></sheets></workbook>",
        "xl/worksheets/sheet1.xml": "<worksheet><sheetData><row r='1'><c r='A1' t='inlineStr'><is><t>Phòng Nội vụ</t></is></c></row></sheetData></worksheet>".encode(),
    })


def docx_with(name: str, content: bytes) -> bytes:
    """A docx (valid OOXML layout) with one more member."""
    return archive({**DOCX_SKELETON, name: content})


def long_docx(paragraphs: int = 30_000) -> bytes:
    """A real-looking Word document of a few MiB of text: it compresses, but not like a bomb."""
    pick = random.Random(57)
    words = ["kế", "hoạch", "chuyển", "đổi", "số", "huyện", "Kim", "Động", "báo", "cáo", "năm", "2025", "Nghị", "quyết"]
    body = "".join(f"<w:p><w:r><w:t>{' '.join(pick.choice(words) for _ in range(12))} {i}</w:t></w:r></w:p>" for i in range(paragraphs))
    return docx_with("word/document.xml", f"<w:document><w:body>{body}</w:body></w:document>".encode())


def rewritten(data: bytes, member: str, *, size: int | None = None, flag_bits: int | None = None,
              entries: int | None = None) -> bytes:
    """The archive with a member's recorded uncompressed size or flags (in its local and central
    headers), or the end record's member count, rewritten: headers that lie."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        local = zipped.getinfo(member).header_offset
    end = data.rindex(b"PK\x05\x06")
    at = struct.unpack_from("<L", out, end + 16)[0]  # where the central directory starts
    while True:  # to this member's entry
        name_length, extra_length, comment_length = struct.unpack_from("<3H", out, at + 28)
        if out[at + 46:at + 46 + name_length].decode() == member:
            break
        at += 46 + name_length + extra_length + comment_length
    if size is not None:
        struct.pack_into("<L", out, local + 22, size)
        struct.pack_into("<L", out, at + 24, size)
    if flag_bits is not None:
        struct.pack_into("<H", out, local + 6, flag_bits)
        struct.pack_into("<H", out, at + 8, flag_bits)
    if entries is not None:
        struct.pack_into("<2H", out, end + 8, entries, entries)
    return bytes(out)
