import subprocess
import sys
from collections import Counter

import pytest

from tracker.domain.admin_units import (
    AdminUnit, FormerUnit, communes_of, find_province, former_units_of, provinces, units_from_former_district,
)


@pytest.fixture(scope="module")
def hung_yen():
    return find_province("Hưng Yên")


@pytest.mark.parametrize("name", ["Hưng Yên", "hung yen", "Tỉnh Hưng Yên", "TỈNH HƯNG YÊN", "  tinh  hung   yen "])
def test_find_province_by_several_spellings(name):
    assert find_province(name) == AdminUnit("33", "Hưng Yên", "province")


def test_find_cities_with_or_without_prefix():
    assert find_province("Hà Nội").code == find_province("Thành phố Hà Nội").code == "01"
    assert find_province("tp hồ chí minh").code == "79"


@pytest.mark.parametrize("name", ["Hưng Yên Mới", "Atlantis", ""])
def test_unknown_province_raises_lookup_error(name):
    with pytest.raises(LookupError, match="No province"):
        find_province(name)


def test_unknown_province_error_suggests_close_names():
    with pytest.raises(LookupError, match="did you mean Hưng Yên"):
        find_province("Hung Yen cu")


def test_former_province_error_names_its_new_province():
    with pytest.raises(LookupError, match="part of Hưng Yên"):
        find_province("Thái Bình")


def _raw_rows_of_province(code):
    # Straight from the package's public database API, independently of the module under test.
    from vietnamadminunits.database import query

    return query(f"SELECT wardCode, ward, wardType FROM admin_units WHERE provinceCode = '{code}'")


def test_hung_yen_communes_match_the_raw_data(hung_yen):
    communes = communes_of(hung_yen)
    raw = _raw_rows_of_province("33")
    assert len(communes) == len(raw) == 104
    assert {(c.code, c.name) for c in communes} == {(r["wardCode"], r["ward"]) for r in raw}
    kinds = Counter(c.kind for c in communes)
    assert kinds == {"commune": Counter(r["wardType"] for r in raw)["Xã"], "ward": 11} == {"commune": 93, "ward": 11}


def test_hung_yen_has_the_same_communes_in_vietnam_provinces(hung_yen):
    from vietnam_provinces import ProvinceCode, Ward

    other = {" ".join(w.name.split()) for w in Ward.iter_by_province(ProvinceCode.P_33)}
    assert {c.name for c in communes_of(hung_yen)} == other


def test_codes_are_unique_non_empty_and_sorted(hung_yen):
    codes = [c.code for c in communes_of(hung_yen)]
    assert all(code and len(code) == 5 and code.isdigit() for code in codes)
    assert len(set(codes)) == len(codes)
    assert codes == sorted(codes)
    assert all(c.name.startswith(("Xã ", "Phường ")) for c in communes_of(hung_yen))


def test_whole_country():
    units = {p: communes_of(p) for p in provinces()}
    assert len(units) == 34 and len({p.code for p in units}) == 34
    assert all(find_province(p.name) == p for p in units)
    kinds = Counter(u.kind for province_units in units.values() for u in province_units)
    assert kinds == {"commune": 2621, "ward": 687, "special_zone": 13}  # 3,321 in all
    assert all(former_units_of(u, p) for p, province_units in units.items() for u in province_units)


def test_island_district_became_a_special_zone_whole():
    zones = [c for c in communes_of(find_province("Hải Phòng")) if c.kind == "special_zone"]
    assert {z.name for z in zones} == {"Đặc khu Cát Hải", "Đặc khu Bạch Long Vĩ"}
    bach_long_vi = next(z for z in zones if z.name == "Đặc khu Bạch Long Vĩ")
    [former] = former_units_of(bach_long_vi, find_province("Hải Phòng"))
    assert (former.name, former.kind, former.district) == ("Huyện Bạch Long Vĩ", "district", None)


def test_kim_dong_went_into_new_communes_that_list_it(hung_yen):
    units = units_from_former_district(hung_yen, "Kim Động")
    assert units
    assert [u.code for u in units] == sorted(u.code for u in units)
    for unit in units:
        assert unit in communes_of(hung_yen)
        assert any(f.district == "Huyện Kim Động" for f in former_units_of(unit, hung_yen)), unit
    assert units_from_former_district(hung_yen, "huyen kim dong") == units


def test_known_kim_dong_communes(hung_yen):
    by_code = {u.code: u for u in units_from_former_district(hung_yen, "Kim Động")}
    formers = {f.name: f for f in former_units_of(by_code["12280"], hung_yen)}
    assert by_code["12280"].name == "Xã Lương Bằng"
    assert formers["Thị trấn Lương Bằng"] == FormerUnit(
        "12280", "Thị trấn Lương Bằng", "township", "Huyện Kim Động", "Tỉnh Hưng Yên"
    )
    assert "Xã Toàn Thắng" in {f.name for f in former_units_of(by_code["12286"], hung_yen)}


def test_every_former_kim_dong_commune_is_accounted_for(hung_yen):
    from vietnamadminunits.database import query

    raw = {r["ward"] for r in query("SELECT ward FROM admin_units_legacy WHERE district = 'Huyện Kim Động'")}
    mapped = {
        f.name
        for u in units_from_former_district(hung_yen, "Kim Động")
        for f in former_units_of(u, hung_yen)
        if f.district == "Huyện Kim Động"
    }
    assert mapped == raw


def test_unknown_former_district_raises_lookup_error(hung_yen):
    with pytest.raises(LookupError, match="Kim Động"):  # suggested as a close name
        units_from_former_district(hung_yen, "Kim Dongg")


def test_ambiguous_former_district_needs_its_former_province():
    vinh_long = find_province("Vĩnh Long")
    with pytest.raises(LookupError, match="former_province"):
        units_from_former_district(vinh_long, "Châu Thành")
    from_ben_tre = units_from_former_district(vinh_long, "Châu Thành", former_province="Bến Tre")
    assert from_ben_tre
    for unit in from_ben_tre:
        assert any(f.province == "Tỉnh Bến Tre" for f in former_units_of(unit, vinh_long))


def test_former_units_of_a_unit_outside_the_province_is_empty(hung_yen):
    ha_noi_unit = communes_of(find_province("Hà Nội"))[0]
    assert former_units_of(ha_noi_unit, hung_yen) == []


def test_loaded_data_is_cached(hung_yen):
    from tracker.domain import admin_units

    communes_of(hung_yen)
    assert admin_units._communes.cache_info().hits >= 1


def test_importing_the_module_loads_neither_package():
    code = (
        "import sys, tracker.domain.admin_units; "
        "assert not {'vietnam_provinces', 'vietnamadminunits'} & set(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
