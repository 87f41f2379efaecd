import pytest

from tracker.domain.evidence import (
    DOCX, ODT, PDF, PNG, TEXT, EvidenceRejected, check_content, check_filename, sniff,
)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("../../etc/passwd", "evidence.filename_path"),
        ("a/b.pdf", "evidence.filename_path"),
        ("..\\x.pdf", "evidence.filename_path"),
        ("bad\x00name.pdf", "evidence.filename_control_chars"),
        ("bad\nname.pdf", "evidence.filename_control_chars"),
        ("rtl\u202ecod.pdf", "evidence.filename_control_chars"),
        ("x" * 300 + ".pdf", "evidence.filename_too_long"),
        ("", "evidence.filename_missing"),
        ("noextension", "evidence.type_not_allowed"),
        (".pdf", "evidence.filename_path"),
    ],
)
def test_bad_names(raw, code):
    with pytest.raises(EvidenceRejected) as caught:
        check_filename(raw)
    assert caught.value.code == code


def test_vietnamese_name_is_kept_composed():
    import unicodedata

    name, extension = check_filename(unicodedata.normalize("NFD", "Báo cáo chuyển đổi số 6 tháng.PDF"))
    assert name == unicodedata.normalize("NFC", "Báo cáo chuyển đổi số 6 tháng.PDF")
    assert extension == "pdf"


@pytest.mark.parametrize(
    ("head", "members", "expected"),
    [
        (b"%PDF-1.7\n", None, PDF),
        (b"\x89PNG\r\n\x1a\n....", None, PNG),
        (b"MZ\x90\x00", None, "executable"),
        (b"#!/bin/sh\nrm -rf /", None, "executable"),
        (b"<!DOCTYPE html><html>", None, "active_content"),
        (b"  <svg xmlns='http://www.w3.org/2000/svg'>", None, "active_content"),
        (b"Xin ch\xc3\xa0o", None, TEXT),
        (b"a,b\n1,2\n\xe1\xbb", None, TEXT),  # a character cut at the sample's end
        (b"PK\x03\x04", ["[Content_Types].xml", "word/document.xml"], DOCX),
        (b"\x00\x01\x02", None, "binary"),
    ],
)
def test_sniff(head, members, expected):
    assert sniff(head, members) == expected


def test_opendocument_by_mimetype_member():
    assert sniff(b"PK\x03\x04", ["mimetype", "content.xml"], b"application/vnd.oasis.opendocument.text") == ODT


@pytest.mark.parametrize(
    ("extension", "kind", "code"),
    [
        ("pdf", "active_content", "evidence.active_content"),
        ("docx", "executable", "evidence.executable"),
        ("svg", TEXT, "evidence.type_not_allowed"),
        ("exe", "executable", "evidence.executable"),
        ("pdf", PNG, "evidence.type_mismatch"),
        ("txt", "binary", "evidence.type_mismatch"),
    ],
)
def test_refused_pairs(extension, kind, code):
    with pytest.raises(EvidenceRejected) as caught:
        check_content(extension, kind)
    assert caught.value.code == code


def test_csv_is_text():
    assert check_content("csv", TEXT).media_type.startswith("text/csv")


@pytest.mark.parametrize(
    "head",
    [
        b"%PDF-1.7\n<html><script>alert(1)</script></html>",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n<!DOCTYPE HTML>\n<BODY onload=alert(1)>",
        b"%PDF-1.7\n" + b"\x00\x9c" * 2000 + b"<Script src=//x.example/a.js></script>",
        b"%PDF-1.7\n<svg/onload=alert(1)>",
        b"%PDF-1.7\n<iframe src=x>",
    ],
    ids=["html and script", "doctype and body", "script deeper in the sample", "svg", "iframe"],
)
def test_pdf_carrying_html_is_a_polyglot(head):
    assert sniff(head) == "polyglot"
    with pytest.raises(EvidenceRejected) as caught:
        check_content("pdf", sniff(head))
    assert caught.value.code == "evidence.polyglot"


@pytest.mark.parametrize(
    "head",
    [
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n<48656c6c6f> <a 0>",  # hex strings, dictionaries
        b"%PDF-1.7\n<?xpacket begin=''?><x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF/></x:xmpmeta>",  # XMP metadata
        b"%PDF-1.7\n(the <header> and <bodyguard> of a report, <scripts>)",
    ],
    ids=["hex strings", "xmp metadata", "words that start like tags"],
)
def test_ordinary_pdf_is_a_pdf(head):
    assert sniff(head) == PDF
