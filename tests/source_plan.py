"""An independent reading of the source plan text, to check the shipped data against it."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1].parent / "shared" / "plan" / "ke-hoach-nq57-kim-dong.txt"


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def section_three() -> tuple[dict[int, str], dict[str, str]]:
    """Group titles by number, and bullet texts by ref, from section III of the source.

    A bullet starts with "- "; any other non-empty line before the next bullet or heading
    continues it (the source has page breaks inside two bullets). Emphasis markers go.
    """
    lines = nfc(SOURCE.read_text(encoding="utf-8")).splitlines()
    start = lines.index("III. NHIỆM VỤ, GIẢI PHÁP CHỦ YẾU")
    end = lines.index("IV. TỔ CHỨC THỰC HIỆN")
    titles: dict[int, str] = {}
    bullets: dict[str, str] = {}
    group = bullet = 0
    for line in (raw.strip() for raw in lines[start + 1 : end]):
        if not line:
            continue
        heading = re.match(r"^(\d)\. (.+)$", line)
        if heading:
            group, bullet = int(heading.group(1)), 0
            titles[group] = heading.group(2)
        elif line.startswith("- "):
            bullet += 1
            bullets[f"III.{group}.{bullet}"] = line[2:]
        else:
            bullets[f"III.{group}.{bullet}"] += " " + line
    return titles, {ref: text.replace("*", "") for ref, text in bullets.items()}


def section_four() -> dict[str, str]:
    """Item texts by ref from section IV of the source: an item whose heading carries its text
    (IV.1, IV.2), an item's bullets (IV.3.1 …), or an item's paragraph (IV.4). The document's
    closing mark "/." goes with the emphasis markers."""
    lines = nfc(SOURCE.read_text(encoding="utf-8")).splitlines()
    start = lines.index("IV. TỔ CHỨC THỰC HIỆN")
    end = lines.index("Nơi nhận:")
    items: dict[str, str] = {}
    item = bullet = 0
    for line in (raw.strip() for raw in lines[start + 1 : end]):
        if not line:
            continue
        heading = re.match(r"^(\d)\. (.+)$", line)
        if heading:
            item, bullet = int(heading.group(1)), 0
            if not heading.group(2).endswith(":"):
                items[f"IV.{item}"] = heading.group(2)
        elif line.startswith("- "):
            bullet += 1
            items[f"IV.{item}.{bullet}"] = line[2:]
        else:
            items[f"IV.{item}"] = line
    return {ref: text.replace("*", "").removesuffix("/.") for ref, text in items.items()}


def is_split_of(part: str, whole: str) -> bool:
    """`part` is, verbatim, one or more whole sentences or clauses of `whole`: it starts where
    `whole`, a sentence (after ". ") or a clause (after "; ") starts, and ends with a full stop
    where `whole` or a sentence of it ends."""
    if not part.endswith("."):
        return False
    at = whole.find(part)
    while at != -1:
        starts = at == 0 or whole[at - 2 : at] in (". ", "; ")
        ends = at + len(part) == len(whole) or whole[at + len(part)] == " "
        if starts and ends:
            return True
        at = whole.find(part, at + 1)
    return False
