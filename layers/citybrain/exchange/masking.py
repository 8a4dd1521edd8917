"""Masking personal data by kind, and checking resident identity card numbers.

What each kind keeps (the rest becomes `*`):
- id_card: the first 6 (the issuing area) and last 4 characters — `440605********123X`;
- phone:   the first 3 and last 4 digits of a mobile number — `138****0001`;
- name:    the family name, compound ones (欧阳, 司马, 诸葛…) whole — `张**`, `欧阳**`;
- address: everything up to and including the town (街道/镇/乡) — `佛山市南海区桂城街道***`.

A value too short or too odd to follow its rule is masked whole: a mask must
never reveal more than the rule allows, so doubt always masks more.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from citybrain.core.vocabulary import Town

# GB 11643-1999: weight of position i is 2^(17-i) mod 11; the check code is
# "10X98765432"[sum mod 11].
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CODES = "10X98765432"
# First two digits: the province-level division (GB/T 2260), 71/81/82 for Taiwan, Hong Kong, Macao.
PROVINCES = frozenset(
    {
        11,
        12,
        13,
        14,
        15,
        21,
        22,
        23,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        41,
        42,
        43,
        44,
        45,
        46,
        50,
        51,
        52,
        53,
        54,
        61,
        62,
        63,
        64,
        65,
        71,
        81,
        82,
    }
)

# Compound family names (复姓) still in use; 司徒, 欧阳 and 上官 are common in Guangdong.
COMPOUND_SURNAMES = frozenset(
    """
欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离 闻人 澹台 公冶 太史
端木 申屠 百里 南宫 西门 独孤 万俟 呼延 拓跋 第五 赫连 司空 濮阳 淳于 单于 仲孙 东郭 公羊 羊舌 微生
梁丘 左丘 东门 谷梁 宰父 亓官 乐正 壤驷 公良 漆雕 颛孙 巫马 公西 段干 鲜于 闾丘 子车 司寇 马佳 佟佳
""".split()
)

TOWN_SUFFIXES = ("街道", "镇", "乡")
_NAME_SEPARATORS = "·•・.．"


def _text(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


# -- identity card numbers -------------------------------------------------------
def id_check_digit(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CODES[total % 11]


def id_card_problem(value: Any, today: date | None = None) -> str | None:
    """Why `value` is not a valid resident identity card number, or None if it is.

    18 characters (GB 11643-1999, with check code) or the 15-digit first-generation
    number (no check code). A lower-case x is accepted as X."""
    text = _text(value).upper()
    today = today or date.today()
    if len(text) == 18:
        if not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
            return "17 digits then a digit or X"
        birth = text[6:14]
    elif len(text) == 15:
        if not text.isdigit():
            return "a 15-digit number has digits only"
        birth = "19" + text[6:12]
    else:
        return "18 characters (or 15 digits for a first-generation card)"
    if int(text[:2]) not in PROVINCES:
        return f"no province has code {text[:2]}"
    try:
        born = date(int(birth[:4]), int(birth[4:6]), int(birth[6:8]))
    except ValueError:
        return f"birth date {birth} does not exist"
    if born > today or born.year < 1880:
        return f"birth date {born.isoformat()} is not plausible"
    if len(text) == 18 and id_check_digit(text[:17]) != text[17]:
        return f"check code should be {id_check_digit(text[:17])} (GB 11643)"
    return None


def normalize_id_card(value: Any) -> str:
    return _text(value).upper()


def mask_id_card(value: Any) -> str:
    text = _text(value).upper()
    if len(text) < 15:  # not a card number we understand: keep nothing
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


# -- phone numbers ---------------------------------------------------------------
def phone_digits(value: Any) -> str:
    """Digits only, without the country code of a mainland number (+86 / 0086)."""
    digits = re.sub(r"\D", "", _text(value))
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) in (11, 10, 12) and len(digits) > 11:
            return digits[len(prefix) :]
    return digits


def phone_problem(value: Any) -> str | None:
    digits = phone_digits(value)
    if re.fullmatch(r"1[3-9]\d{9}", digits):
        return None  # mobile
    if re.fullmatch(r"0[1-9]\d{8,10}", digits):
        return None  # landline with its area code, e.g. 0757-86281234
    return "a mobile number (11 digits starting 13-19) or a landline with its area code"


def mask_phone(value: Any) -> str:
    digits = phone_digits(value)
    if len(digits) >= 11:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if len(digits) >= 8:  # a landline or a short number: only the last 4 digits
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)


# -- names -----------------------------------------------------------------------
def family_name(name: str) -> str:
    """The family name of a Han name: a known compound surname, else the first character."""
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2]
    return name[:1]


def mask_name(value: Any) -> str:
    name = re.sub(r"\s+", " ", _text(value))
    if len(name) <= 1:
        return "*" * len(name)
    if any(sep in name for sep in _NAME_SEPARATORS) or not _is_han(name):
        # Transliterated (买买提·艾力) or Latin names: which part is the family
        # name is not knowable here, so only the first letter stays.
        return name[0] + "".join(c if c in _NAME_SEPARATORS or c == " " else "*" for c in name[1:])
    kept = family_name(name)
    return kept + "*" * (len(name) - len(kept))


def _is_han(text: str) -> bool:
    return all("\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" for c in text)


# -- addresses -------------------------------------------------------------------
_GENERIC_TOWN = re.compile(r"^(.{2,}?(?:街道|镇|乡))")


def address_town(value: Any) -> str | None:
    """The address up to and including its town, or None if no town can be found."""
    text = _text(value)
    best: int | None = None
    for town in Town:  # the district's own towns first: 镇 also occurs in road names
        at = text.find(town.value)
        if at >= 0 and (best is None or at < best):
            best = at + len(town.value)
    if best is not None:
        return text[:best]
    match = _GENERIC_TOWN.match(text)
    if match and len(match.group(1)) < len(text):
        return match.group(1)
    return None


def mask_address(value: Any) -> str:
    text = _text(value)
    town = address_town(text)
    if town is None:
        return "***" if text else ""
    return town + ("***" if len(text) > len(town) else "")


MASKS = {"id_card": mask_id_card, "phone": mask_phone, "name": mask_name, "address": mask_address}


def mask(kind: str, value: Any) -> Any:
    """Mask `value` as personal data of `kind` (none leaves it as it is)."""
    if value is None or kind == "none":
        return value
    return MASKS[kind](value)
