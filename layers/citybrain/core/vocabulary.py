"""The district's fixed vocabularies: its domains and its towns."""

from __future__ import annotations

from enum import StrEnum


class Domain(StrEnum):
    traffic = "traffic"  # 交通
    environment = "environment"  # 环保
    urban = "urban"  # 城管
    housing = "housing"  # 住建
    health = "health"  # 卫健
    safety = "safety"  # 应急/大安全


# The names officials read for the domains (reports, the dashboard, the big-safety view).
DOMAIN_NAMES: dict[str, str] = {
    Domain.traffic: "交通",
    Domain.environment: "环保",
    Domain.urban: "城管",
    Domain.housing: "住建",
    Domain.health: "卫健",
    Domain.safety: "应急",
}


class Town(StrEnum):
    guicheng = "桂城街道"
    dali = "大沥镇"
    lishui = "里水镇"
    shishan = "狮山镇"
    danzao = "丹灶镇"
    xiqiao = "西樵镇"
    jiujiang = "九江镇"
