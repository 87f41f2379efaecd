"""Demo users for the Kim Động plan, for local runs and tests. Never loaded in production
unless asked for explicitly: their passwords are published in the README."""

from __future__ import annotations

from sqlalchemy import select

from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.models import Organization, User
from tracker.services.users import create_user

DEMO_PASSWORD = "KimDong@2025"

# username, full name, phone, email, [(organisation code, role)]
DEMO_USERS: list[tuple[str, str, str, str, list[tuple[str, str]]]] = [
    ("admin", "Quản trị hệ thống", "0221 3800 001", "admin@kimdong.example.vn", [("TU-HY", "admin")]),
    ("lanhdao.huyen", "Nguyễn Chi Hội", "0221 3800 002", "lanhdao@kimdong.example.vn", [("HU-KD", "leader")]),
    ("lanhdao.ubnd", "Trần Văn Bình", "0221 3800 003", "ubnd@kimdong.example.vn", [("UBND-KD", "leader")]),
    ("canbo.vhkhtt", "Lê Thị Hoa", "0912 000 101", "hoa.vhkhtt@kimdong.example.vn", [("PVHKHTT-KD", "officer")]),
    ("canbo.noivu", "Phạm Minh Đức", "0912 000 102", "duc.noivu@kimdong.example.vn", [("PNV-KD", "officer")]),
    ("canbo.congan", "Đỗ Quang Huy", "0912 000 103", "huy.congan@kimdong.example.vn", [("CA-KD", "officer")]),
    ("canbo.tuyengiao", "Vũ Thu Trang", "0912 000 104", "trang.tgdv@kimdong.example.vn", [("BTGDV-KD", "officer")]),
    ("giamsat.tgdv", "Hoàng Văn Sơn", "0912 000 105", "son.tgdv@kimdong.example.vn", [("HU-KD", "viewer")]),
]


def ensure_demo_users() -> int:
    """Create the demo users that are missing; existing ones are left as they are."""
    codes = {code for *_, memberships in DEMO_USERS for code, _ in memberships}
    orgs = {o.code: o for o in db.session.scalars(select(Organization).where(Organization.code.in_(codes)))}
    missing = codes - orgs.keys()
    if missing:
        raise ValidationFailed(f"Thiếu đơn vị cho người dùng mẫu: {', '.join(sorted(missing))}. Load the plan first.")
    existing = set(db.session.scalars(select(User.username).where(User.username.in_([u[0] for u in DEMO_USERS]))))
    created = 0
    for username, full_name, phone, email, memberships in DEMO_USERS:
        if username in existing:
            continue
        create_user({
            "username": username, "password": DEMO_PASSWORD, "full_name": full_name, "phone": phone, "email": email,
            "memberships": [{"organization_id": orgs[code].id, "role": role} for code, role in memberships],
        })
        created += 1
    return created
