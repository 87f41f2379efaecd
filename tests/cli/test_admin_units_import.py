"""`flask tracker import-admin-units`: the official list as organisations, idempotent, and
nothing written when the province (or anything else) is wrong."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.helpers import row_counts
from tracker.domain.admin_units import communes_of, find_province, former_units_of
from tracker.domain.plans import ORG_CODE_PATTERN
from tracker.models import Organization, OrganizationVersion
from tracker.services.admin_units import describe_former


@pytest.fixture(scope="module")
def hung_yen():
    province = find_province("Hưng Yên")
    return province, communes_of(province)


def imported(session) -> dict[str, Organization]:
    return {o.admin_code: o for o in session.scalars(select(Organization).where(Organization.admin_code.is_not(None)))}


def counts(session) -> dict[str, int]:
    return {**row_counts(), "organization_version": session.scalar(select(func.count()).select_from(OrganizationVersion))}


def run(runner, *args):
    return runner.invoke(args=["tracker", "import-admin-units", *args])


def test_import_creates_the_province_and_its_communes(runner, session, hung_yen):
    province, units = hung_yen
    before = counts(session)
    result = run(runner, "--province", "Hưng Yên")
    assert result.exit_code == 0, result.output
    assert f"{len(units) + 1} created, 0 updated, 0 unchanged" in result.output
    assert f"{len(units) + 1} units (1 province, 93 xã, 11 phường, 0 đặc khu)" in result.output
    after = counts(session)
    assert after["organization"] == before["organization"] + len(units) + 1 == before["organization"] + 105
    assert after["organization_version"] == before["organization_version"] + len(units) + 1

    orgs = imported(session)
    assert set(orgs) == {province.code} | {u.code for u in units}
    top = orgs[province.code]
    assert (top.code, top.name, top.kind, top.parent_id) == ("DVHC-33", province.name, "province", None)
    for unit in units:
        org = orgs[unit.code]
        assert org.code == f"DVHC-{unit.code}" and ORG_CODE_PATTERN.match(org.code)
        assert org.name == unit.name  # exactly the package's name
        assert (org.kind, org.parent_id, org.valid_to, org.is_demo) == ("commune", top.id, None, False)
    assert {o.valid_from for o in orgs.values()} == {dt.date(2025, 7, 1)}
    # The units of the former Kim Động district, as the brief lists them.
    assert {code: orgs[code].name for code in ("11983", "12280", "12286", "12313", "12322")} == {
        "11983": "Phường Sơn Nam", "12280": "Xã Lương Bằng", "12286": "Xã Nghĩa Dân", "12313": "Xã Đức Hợp",
        "12322": "Xã Hiệp Cường",
    }
    # Found by search (accents and case ignored), and absent from the tree before 1 July 2025.
    assert orgs["12286"].search_key == "dvhc-12286 xa nghia dan"
    versions = session.scalars(select(OrganizationVersion).where(OrganizationVersion.organization_id == orgs["12280"].id)).all()
    assert [(v.valid_from, v.valid_to, v.name, v.parent_id) for v in versions] == [(dt.date(2025, 7, 1), None, "Xã Lương Bằng", top.id)]


def test_second_run_changes_nothing(runner, session, hung_yen):
    _, units = hung_yen
    assert run(runner, "--province", "Hưng Yên").exit_code == 0
    before = counts(session)
    stamps = {code: org.updated_at for code, org in imported(session).items()}
    result = run(runner, "--province", "hung yen")  # another spelling of the same province
    assert result.exit_code == 0, result.output
    assert f"0 created, 0 updated, {len(units) + 1} unchanged" in result.output
    assert counts(session) == before
    session.expire_all()
    assert {code: org.updated_at for code, org in imported(session).items()} == stamps


def test_a_changed_name_is_put_back_from_the_package(runner, session):
    assert run(runner, "--province", "Hưng Yên").exit_code == 0
    org = imported(session)["12280"]
    org.name = "Xã Lương Bằng (cũ)"
    session.flush()
    before = counts(session)
    result = run(runner, "--province", "Hưng Yên")
    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated, 104 unchanged" in result.output
    assert counts(session) == before
    session.expire_all()
    assert imported(session)["12280"].name == "Xã Lương Bằng"


def test_show_former_lists_the_units_each_commune_was_formed_from(runner, session, hung_yen):
    province, units = hung_yen
    result = run(runner, "--province", "Hưng Yên", "--show-former")
    assert result.exit_code == 0, result.output
    blocks: dict[str, list[str]] = {}
    current = None
    for line in result.output.splitlines():
        if line.startswith("  DVHC-"):
            current = line.split()[0].removeprefix("DVHC-")
            blocks[current] = []
        elif line.startswith("      ") and current:
            blocks[current].append(line.strip())
    assert set(blocks) == {u.code for u in units}
    for unit in units:
        assert blocks[unit.code] == [describe_former(f) for f in former_units_of(unit, province)], unit
    assert blocks["12280"] == [
        "Thị trấn Lương Bằng (Huyện Kim Động, Tỉnh Hưng Yên)", "Xã Phạm Ngũ Lão (Huyện Kim Động, Tỉnh Hưng Yên)",
        "Xã Chính Nghĩa (Huyện Kim Động, Tỉnh Hưng Yên)", "Xã Diên Hồng (Huyện Kim Động, Tỉnh Hưng Yên)",
    ]
    part = "Xã Ngọc Thanh (Huyện Kim Động, Tỉnh Hưng Yên; một phần / part)"
    assert part in blocks["11983"] and part in blocks["12322"]


def test_parent_option_puts_the_province_under_an_organisation(runner, session, org):
    result = run(runner, "--province", "Hưng Yên", "--parent", "TU-HY")
    assert result.exit_code == 0, result.output
    assert imported(session)["33"].parent_id == org["TU-HY"]


@pytest.mark.parametrize(("name", "message"), [
    ("Atlantis", "No province 'Atlantis' among the 34 provinces"),
    ("Hung Yen cu", "did you mean Hưng Yên?"),
    ("Thái Bình", "is part of Hưng Yên since 1 July 2025"),
])
def test_unknown_province_fails_and_writes_nothing(runner, session, name, message):
    before = counts(session)
    result = run(runner, "--province", name)
    assert result.exit_code != 0
    assert message in result.output
    assert counts(session) == before
    assert imported(session) == {}


def test_unknown_parent_fails_and_writes_nothing(runner, session):
    before = counts(session)
    result = run(runner, "--province", "Hưng Yên", "--parent", "NO-SUCH-ORG")
    assert result.exit_code != 0
    assert "NO-SUCH-ORG" in result.output
    assert counts(session) == before


def test_code_held_by_another_organisation_fails_and_writes_nothing(runner, session, org):
    session.add(Organization(code="DVHC-12280", name="Một đơn vị khác", kind="department", parent_id=org["UBND-KD"], search_key=""))
    session.commit()  # a savepoint here: the command's rollback must not take it away
    before = counts(session)
    result = run(runner, "--province", "Hưng Yên")
    assert result.exit_code != 0
    assert "DVHC-12280" in result.output and "organization.code_taken" in result.output
    assert counts(session) == before
    assert imported(session) == {}
