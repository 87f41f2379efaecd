"""Vietnam's administrative units since 1 July 2025 (34 provinces, 3,321 communes; no districts).

Pure lookups over data shipped in two PyPI packages, loaded lazily and cached:

- ``vietnam_provinces``: the 34 provinces and their official two-digit codes.
- ``vietnamadminunits``: the communes, wards and special zones of each province (its five-digit
  codes match the statistics office's published list; ``vietnam_provinces`` 2025.10.1 still has
  some draft codes), the pre-2025 units with their own codes, and which old unit went into
  which new one. That mapping is keyed by folded names ("tinhhungyen_huyenkimdong_xatoanthang");
  we join those keys to the package's own tables to get codes and names.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from tracker.domain.text import fold


@dataclass(frozen=True)
class AdminUnit:
    code: str  # official code: "33" for a province, "12280" for a commune
    name: str  # full official name from the package, e.g. "Xã Lương Bằng"
    kind: str  # "province", "commune", "ward" or "special_zone"


@dataclass(frozen=True)
class FormerUnit:
    """A pre-2025 unit that went, wholly or in part, into a post-2025 unit."""

    code: str | None  # pre-2025 code (a district's code when a whole island district became a zone)
    name: str  # e.g. "Thị trấn Lương Bằng"
    kind: str  # "commune", "ward", "township" (thị trấn) or "district"
    district: str | None  # e.g. "Huyện Kim Động"; None when the unit is the district itself
    province: str | None  # pre-2025 province, e.g. "Tỉnh Hưng Yên"
    partial: bool = False  # True when the old unit was split and only part of it went here


_NEW_KINDS = {"Xã": "commune", "Phường": "ward", "Đặc khu": "special_zone"}
_OLD_KINDS = {"Xã": "commune", "Phường": "ward", "Thị trấn": "township"}
# Folded prefixes that people may or may not type before a name.
_PROVINCE_PREFIX = re.compile(r"^(tinh|thanh pho|tp\.?)\s+")
_DISTRICT_PREFIX = re.compile(r"^(huyen|quan|thi xa|thanh pho|tp\.?)\s+")


def _short(name: str, prefix: re.Pattern[str]) -> str:
    """Folded name without its administrative prefix: "Tỉnh Hưng Yên" -> "hung yen"."""
    return prefix.sub("", fold(name))


def _close(wanted: str, names: dict[str, str]) -> str:
    """A "did you mean" hint with the names whose folded short form is close to ``wanted``."""
    close = [names[s] for s in difflib.get_close_matches(wanted, names, n=3, cutoff=0.6)]
    return f"; did you mean {', '.join(close)}?" if close else ""


@functools.cache
def _provinces() -> tuple[AdminUnit, ...]:
    from vietnam_provinces import Province

    units = (AdminUnit(f"{int(p.code):02d}", p.name, "province") for p in Province.iter_all())
    return tuple(sorted(units, key=lambda u: u.code))


def provinces() -> list[AdminUnit]:
    """The 34 provinces and centrally-run cities since 1 July 2025, sorted by code."""
    return list(_provinces())


def find_province(name: str) -> AdminUnit:
    """The post-2025 province ``name``, ignoring case, accents and a "Tỉnh"/"Thành phố" prefix."""
    wanted = _short(name, _PROVINCE_PREFIX)
    by_short = {_short(p.name, _PROVINCE_PREFIX): p for p in _provinces()}
    if wanted in by_short:
        return by_short[wanted]
    merged_into = _merged_provinces().get(re.sub(r"[^a-z0-9]", "", wanted))
    if merged_into:
        raise LookupError(f"Province {name!r} is part of {merged_into} since 1 July 2025")
    hint = _close(wanted, {short: p.name for short, p in by_short.items()})
    raise LookupError(f"No province {name!r} among the 34 provinces since 1 July 2025{hint}")


def _vau_file(relative: str) -> Path:
    """A data file of vietnamadminunits, found without running its slow package import."""
    import importlib.util

    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("The vietnamadminunits package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / relative


def _query(sql: str) -> list[sqlite3.Row]:
    """Rows of the package's SQLite data set, opened read-only."""
    connection = sqlite3.connect(_vau_file("data/dataset.db").as_uri() + "?mode=ro", uri=True)
    try:
        connection.row_factory = sqlite3.Row
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


@functools.cache
def _mapping() -> dict:
    """The package's old -> new mapping, by keys (folded names without spaces)."""
    return json.loads(_vau_file("data/converter_2025.json").read_text(encoding="utf-8"))


@functools.cache
def _new_codes() -> dict[tuple[str, str], tuple[str, str]]:
    """(province key, ward key) -> (province code, ward code), for the post-2025 units."""
    rows = _query("SELECT provinceKey, wardKey, provinceCode, wardCode FROM admin_units")
    return {(r["provinceKey"], r["wardKey"]): (r["provinceCode"], r["wardCode"]) for r in rows}


@functools.cache
def _merged_provinces() -> dict[str, str]:
    """New province's name by former province's key without prefix: "thaibinh" -> "Hưng Yên"."""
    province_code = {pk: code for (pk, _), (code, _) in _new_codes().items()}
    name = {p.code: p.name for p in _provinces()}
    strip = functools.partial(re.sub, r"^(tinh|thanhpho)", "")
    return {
        strip(old_key): name[province_code[new_key]]
        for new_key, old_keys in _mapping()["DICT_PROVINCE"].items()
        for old_key in old_keys
        if strip(old_key) != strip(new_key)  # a province that kept its name is found directly
    }


@functools.cache
def _communes() -> dict[str, tuple[AdminUnit, ...]]:
    """Post-2025 communes, wards and special zones by province code, sorted by code."""
    by_province: dict[str, list[AdminUnit]] = defaultdict(list)
    for row in _query("SELECT provinceCode, wardCode, ward, wardType FROM admin_units"):
        unit = AdminUnit(row["wardCode"], row["ward"], _NEW_KINDS[row["wardType"]])
        by_province[row["provinceCode"]].append(unit)
    return {code: tuple(sorted(units, key=lambda u: u.code)) for code, units in by_province.items()}


def communes_of(province: AdminUnit) -> list[AdminUnit]:
    """The province's communes, wards and special zones with official codes, sorted by code."""
    return list(_communes().get(province.code, ()))


@functools.cache
def _former() -> dict[str, tuple[FormerUnit, ...]]:
    """Pre-2025 units by the code of the post-2025 unit they went into."""
    old_unit: dict[str, FormerUnit] = {}  # by the mapping's key "province_district_ward"
    columns = "provinceKey, districtKey, wardKey, wardCode, ward, wardType, district, districtCode, province"
    for r in _query(f"SELECT {columns} FROM admin_units_legacy"):
        key = f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey'] or ''}"
        if r["ward"]:
            kind = _OLD_KINDS[r["wardType"]]
            old_unit[key] = FormerUnit(r["wardCode"], r["ward"], kind, r["district"], r["province"])
        else:  # an island district without communes, which became a special zone as a whole
            old_unit[key] = FormerUnit(r["districtCode"], r["district"], "district", None, r["province"])

    former: dict[str, list[FormerUnit]] = defaultdict(list)
    new_code = {key: ward_code for key, (_, ward_code) in _new_codes().items()}
    # Old units that went whole into one new unit...
    for province_key, wards in _mapping()["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for ward_key, old_keys in wards.items():
            former[new_code[province_key, ward_key]] += [old_unit[key] for key in old_keys]
    # ...and old units split between several new units.
    for province_key, old_wards in _mapping()["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, parts in old_wards.items():
            old = old_unit[old_key]
            part_of_old = FormerUnit(old.code, old.name, old.kind, old.district, old.province, True)
            for part in parts:
                former[new_code[province_key, part["newWardKey"]]].append(part_of_old)
    return {code: tuple(units) for code, units in former.items()}


def former_units_of(unit: AdminUnit, province: AdminUnit) -> list[FormerUnit]:
    """The pre-2025 units that formed ``unit`` of ``province``; empty when none are known."""
    if unit not in _communes().get(province.code, ()):
        return []
    return list(_former().get(unit.code, ()))


def units_from_former_district(
    province: AdminUnit, district_name: str, *, former_province: str | None = None
) -> list[AdminUnit]:
    """The province's new units holding at least part of a former district, e.g. "Kim Động".

    The name ignores case, accents and a "Huyện"/"Quận"/"Thị xã"/"Thành phố" prefix. When two
    merged provinces each had a district of that name, ``former_province`` says which one.
    """
    wanted = _short(district_name, _DISTRICT_PREFIX)
    wanted_province = _short(former_province, _PROVINCE_PREFIX) if former_province else None
    found: dict[AdminUnit, set[str]] = defaultdict(set)  # new unit -> former provinces matched
    known: dict[str, str] = {}  # every former district here, by folded short name, for errors
    for unit in communes_of(province):
        for old in former_units_of(unit, province):
            district = old.name if old.kind == "district" else old.district
            if not district:
                continue
            known[_short(district, _DISTRICT_PREFIX)] = district
            old_province = old.province or ""
            in_province = wanted_province in (None, _short(old_province, _PROVINCE_PREFIX))
            if _short(district, _DISTRICT_PREFIX) == wanted and in_province:
                found[unit].add(old_province)
    if not found:
        hint = _close(wanted, known)
        raise LookupError(f"No former district {district_name!r} within {province.name}{hint}")
    old_provinces = set().union(*found.values())
    if len(old_provinces) > 1:
        raise LookupError(
            f"Several former provinces had a district {district_name!r} "
            f"({', '.join(sorted(old_provinces))}): pass former_province"
        )
    return sorted(found, key=lambda u: u.code)
