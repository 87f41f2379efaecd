"""What a ZIP-based evidence file (ZIP, OOXML, OpenDocument) may hold: a bounded number of
members, a bounded size once decompressed, and no member that inflates far beyond its compressed
size (a "zip bomb").

Pure Python over a local file, no Flask. The members are counted by walking the central directory
before zipfile reads it (zipfile keeps an object per member: half a million empty members in a
40 MiB upload cost it ~300 MiB). Every member is then decompressed once, counted and dropped, with
a byte cap, so an archive whose headers lie about its sizes is judged by what it really inflates to.
"""

from __future__ import annotations

import copy
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass

from tracker.domain.evidence import EvidenceRejected

# Small members (repetitive XML) may compress very well and still do no harm: the ratio only
# counts once a member inflates past this (Apache POI's ZipSecureFile has the same kind of grace).
RATIO_GRACE_BYTES = 1024 * 1024
MIMETYPE_SAMPLE = 200
_CHUNK = 64 * 1024

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory: signature ... size, offset, comment length
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_CENTRAL_ENTRY = struct.Struct("<4s4B4HL2L5H2L")  # 46 bytes, then name, extra field and comment
_COMMENT_REACH = 1 << 16  # as far back as zipfile looks for the end record


@dataclass(frozen=True)
class ArchiveLimits:
    max_uncompressed: int  # bytes, all members together
    max_ratio: int  # uncompressed / compressed, per member past RATIO_GRACE_BYTES
    max_members: int


@dataclass(frozen=True)
class ArchiveFacts:
    members: list[str]
    mimetype: bytes | None  # the start of an OpenDocument `mimetype` member


def corrupt(detail: str = "") -> EvidenceRejected:
    return EvidenceRejected(
        "evidence.archive_corrupt",
        "Tệp nén bị hỏng hoặc không đọc được. The archive is damaged or cannot be read" + (f": {detail}" if detail else "."),
    )


def inspect_zip(path: str, limits: ArchiveLimits) -> ArchiveFacts:
    """The member names (and OpenDocument mimetype) of an archive within `limits`; or EvidenceRejected."""
    count = _count_members(path, limits.max_members)
    if count > limits.max_members:
        raise EvidenceRejected(
            "evidence.archive_too_many_members",
            f"Tệp nén có quá {limits.max_members} thành phần. The archive has more than {limits.max_members} members.",
            max_members=limits.max_members,
        )
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) != count:
                raise corrupt("its central directory is inconsistent.")
            _check_declared(infos, limits, os.path.getsize(path))
            mimetype = _inflate_all(archive, infos, limits)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, NotImplementedError, struct.error) as exc:
        # whatever a malformed archive makes zipfile raise (bad CRC, truncated data, unknown method ...)
        raise corrupt(str(exc)[:200]) from None
    return ArchiveFacts([info.filename for info in infos], mimetype)


def _count_members(path: str, stop_after: int) -> int:
    """How many entries zipfile would read from the central directory (up to `stop_after` + 1).

    Finds the directory as zipfile does (an end record at the very end, else the last one within
    a comment's reach), then walks its entries without keeping them."""
    with open(path, "rb") as file:
        size = file.seek(0, os.SEEK_END)
        start = max(0, size - _EOCD.size - _COMMENT_REACH)
        file.seek(start)
        tail = file.read()
        at = len(tail) - _EOCD.size
        if not (at >= 0 and tail[at:at + 4] == b"PK\x05\x06" and tail[-2:] == b"\x00\x00"):
            at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < _EOCD.size:
            raise corrupt("no central directory.")
        eocd_offset = start + at
        fields = _EOCD.unpack_from(tail, at)
        directory_size = fields[5]
        directory_end = eocd_offset
        locator_offset = eocd_offset - _ZIP64_LOCATOR.size
        if locator_offset >= 0:
            file.seek(locator_offset)
            locator = file.read(_ZIP64_LOCATOR.size)
            if locator[:4] == b"PK\x06\x07":  # ZIP64: the real sizes are in a record before the locator
                record_offset = locator_offset - _ZIP64_EOCD.size
                if record_offset < 0:
                    raise corrupt("a damaged ZIP64 record.")
                file.seek(record_offset)
                record = file.read(_ZIP64_EOCD.size)
                if len(record) != _ZIP64_EOCD.size or record[:4] != b"PK\x06\x06":
                    raise corrupt("a damaged ZIP64 record.")
                directory_size = _ZIP64_EOCD.unpack(record)[8]
                directory_end = record_offset
        directory_start = directory_end - directory_size
        if directory_start < 0:
            raise corrupt("its central directory lies outside the file.")
        file.seek(directory_start)
        count = walked = 0
        while walked < directory_size and count <= stop_after:
            entry = file.read(_CENTRAL_ENTRY.size)
            if len(entry) != _CENTRAL_ENTRY.size or entry[:4] != b"PK\x01\x02":
                raise corrupt("a damaged central directory entry.")
            name_length, extra_length, comment_length = _CENTRAL_ENTRY.unpack(entry)[12:15]
            variable = name_length + extra_length + comment_length
            file.seek(variable, os.SEEK_CUR)
            walked += _CENTRAL_ENTRY.size + variable
            count += 1
        return count


def _check_declared(infos: list[zipfile.ZipInfo], limits: ArchiveLimits, archive_size: int) -> None:
    """Refuse on what the central directory says, before inflating anything."""
    if any(info.flag_bits & 0x1 for info in infos):
        raise EvidenceRejected(
            "evidence.archive_encrypted",
            "Không nhận tệp nén có mật khẩu. Password-protected archives are refused: their content cannot be checked.",
        )
    if sum(info.compress_size for info in infos) > archive_size:
        raise corrupt("its members overlap or claim more data than the file holds.")
    if sum(info.file_size for info in infos) > limits.max_uncompressed:
        raise _too_large(limits)
    for info in infos:
        if info.file_size > _ratio_cap(info, limits):
            raise _bad_ratio(info, limits)


def _inflate_all(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: ArchiveLimits) -> bytes | None:
    """Decompress each member once, counting, with a cap; the start of the `mimetype` member."""
    budget = limits.max_uncompressed
    mimetype = None
    for info in infos:
        ratio_cap = _ratio_cap(info, limits)
        cap = min(budget, ratio_cap)
        capped = copy.copy(info)
        # zipfile stops at the declared size, and checks the CRC when it gets there: let it run a
        # read (and its 4 KiB read-ahead) past the cap, so that going over is seen here, as such.
        capped.file_size = cap + 1 + _CHUNK
        inflated = 0
        sample = b""
        with archive.open(capped) as member:
            while chunk := member.read(_CHUNK):
                inflated += len(chunk)
                if inflated > cap:
                    raise _bad_ratio(info, limits) if ratio_cap <= budget else _too_large(limits)
                if info.filename == "mimetype" and len(sample) < MIMETYPE_SAMPLE:
                    sample += chunk[: MIMETYPE_SAMPLE - len(sample)]
        if inflated != info.file_size:
            raise corrupt(f"the size recorded for {info.filename[:100]!r} is not its real size.")
        if info.filename == "mimetype":
            mimetype = sample
        budget -= inflated
    return mimetype


def _ratio_cap(info: zipfile.ZipInfo, limits: ArchiveLimits) -> int:
    return max(RATIO_GRACE_BYTES, limits.max_ratio * info.compress_size)


def _too_large(limits: ArchiveLimits) -> EvidenceRejected:
    mib = limits.max_uncompressed // 1048576
    return EvidenceRejected(
        "evidence.archive_too_large",
        f"Tệp nén khi giải nén vượt quá {mib} MiB. The archive holds more than {mib} MiB once decompressed.",
        max_uncompressed_bytes=limits.max_uncompressed,
    )


def _bad_ratio(info: zipfile.ZipInfo, limits: ArchiveLimits) -> EvidenceRejected:
    return EvidenceRejected(
        "evidence.archive_ratio",
        f"Một thành phần của tệp nén có tỉ lệ nén vượt quá {limits.max_ratio}:1. "
        f"A member of the archive inflates more than {limits.max_ratio} times its compressed size.",
        member=info.filename[:255], max_ratio=limits.max_ratio,
    )
