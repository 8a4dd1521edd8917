from datetime import date

import pytest

from citybrain.exchange.masking import (
    address_town,
    id_card_problem,
    id_check_digit,
    mask,
    mask_address,
    mask_id_card,
    mask_name,
    mask_phone,
)

TODAY = date(2026, 11, 27)


# -- GB 11643 identity card numbers -----------------------------------------------
@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X",  # the example printed in GB 11643-1999
        "440524188001010014",  # a widely used example (born 1880)
        "11010519491231002x",  # lower-case x is the same number
        "440605197003150011",  # 佛山市南海区
    ],
)
def test_valid_numbers_pass(number):
    assert id_card_problem(number, TODAY) is None


def test_check_digit_follows_the_weights():
    # 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0*8+0*4+2*2 = 167; 167 mod 11 = 2 -> X
    assert id_check_digit("11010519491231002") == "X"
    assert id_check_digit("44052418800101001") == "4"


@pytest.mark.parametrize(
    "number, why",
    [
        ("110105194912310021", "check code should be X"),
        ("440605197003150018", "check code should be 1"),
        ("11010519491331002X", "does not exist"),  # month 13
        ("11010520300101002X", "not plausible"),  # born in the future
        ("99010519491231002X", "no province"),
        ("1101051949123100", "18 characters"),
        ("11010519491231002Y", "17 digits then a digit or X"),
        ("", "18 characters"),
    ],
)
def test_invalid_numbers_say_why(number, why):
    assert why in id_card_problem(number, TODAY)


def test_first_generation_fifteen_digit_numbers():
    assert id_card_problem("440605700315001", TODAY) is None
    assert "does not exist" in id_card_problem("440605701315001", TODAY)


def test_id_card_mask_keeps_six_and_four():
    assert mask_id_card("11010519491231002X") == "110105********002X"
    assert mask_id_card("11010519491231002x") == "110105********002X"
    assert mask_id_card("440605700315001") == "440605*****5001"
    assert mask_id_card(" 440605197003150011 ") == "440605********0011"


@pytest.mark.parametrize("odd", ["12345", "ABC", "44060519700315"])
def test_short_id_values_are_masked_whole(odd):
    assert mask_id_card(odd) == "*" * len(odd)


# -- phones ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, masked",
    [
        ("13800010001", "138****0001"),
        ("+86 138 0001 0001", "138****0001"),
        ("0086-13800010001", "138****0001"),
        (13800010001, "138****0001"),
        ("0757-86281234", "075*****1234"),
        ("86281234", "****1234"),
        ("12345", "*****"),
        ("", ""),
    ],
)
def test_phone_mask(raw, masked):
    assert mask_phone(raw) == masked


# -- names -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, masked",
    [
        ("张三", "张*"),
        ("陈小明", "陈**"),
        ("欧阳小明", "欧阳**"),
        ("司马相如", "司马**"),
        ("诸葛亮", "诸葛*"),
        ("司徒雷登", "司徒**"),
        ("欧阳", "欧*"),  # two characters: a family name and a given name, not a bare compound surname
        ("麦", "*"),
        ("买买提·艾力", "买**·**"),
        ("John Smith", "J*** *****"),
        ("", ""),
    ],
)
def test_name_mask_keeps_the_family_name(name, masked):
    assert mask_name(name) == masked


# -- addresses ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "address, masked",
    [
        ("佛山市南海区桂城街道南海大道北26号3座1201", "佛山市南海区桂城街道***"),
        ("大沥镇广佛路12号", "大沥镇***"),
        ("广东省佛山市南海区西樵镇樵高路8号之二", "广东省佛山市南海区西樵镇***"),
        ("广州市天河区石牌街道天河路1号", "广州市天河区石牌街道***"),  # a town outside the district
        ("镇南路5号", "***"),  # 镇 in a road name is no town
        ("某某路1号", "***"),
        ("九江镇", "九江镇"),
    ],
)
def test_address_keeps_the_town(address, masked):
    assert mask_address(address) == masked


def test_address_town_prefers_the_districts_towns():
    assert address_town("佛山市南海区狮山镇小塘镇南路3号") == "佛山市南海区狮山镇"


def test_mask_by_kind_leaves_plain_fields_and_nulls():
    assert mask("none", "张三") == "张三"
    assert mask("name", None) is None
    assert mask("phone", "13912345678") == "139****5678"
