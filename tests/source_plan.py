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
