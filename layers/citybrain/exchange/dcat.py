"""The catalog as DCAT 2 in JSON-LD, for open-data portals and harvesters.

Terms: dcat (W3C Data Catalog Vocabulary), dct (Dublin Core terms), foaf,
hydra for paging (harvesters such as ckanext-dcat follow `hydra:next`), and the
EU vocabularies for access rights and frequencies that DCAT-AP uses.
"""

from __future__ import annotations

from typing import Any

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "hydra": "http://www.w3.org/ns/hydra/core#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
}
LANG = "zh-CN"
EU = "http://publications.europa.eu/resource/authority"
ACCESS_RIGHTS = {
    "public": f"{EU}/access-right/PUBLIC",
    "internal": f"{EU}/access-right/RESTRICTED",
    "sensitive": f"{EU}/access-right/NON_PUBLIC",
}
FREQUENCIES = {
    "continuous": "UPDATE_CONT",
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "annual": "ANNUAL",
    "irregular": "IRREG",
}
THEMES = {
    "traffic": "交通",
    "environment": "环保",
    "urban": "城管",
    "housing": "住建",
    "health": "卫健",
    "safety": "应急/大安全",
    "economy": "市场监管/经济",
    "social": "民政/社会保障",
    "government": "政务综合",
}
TYPES = {
    "string": "xsd:string",
    "integer": "xsd:integer",
    "number": "xsd:decimal",
    "boolean": "xsd:boolean",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}


def _text(value: str) -> dict[str, str]:
    return {"@value": value, "@language": LANG}


def _time(value: str) -> dict[str, str]:
    return {"@value": value, "@type": "xsd:dateTime"}


def dataset_node(record: dict[str, Any], base: str, publishers: dict[str, str]) -> dict[str, Any]:
    url = f"{base}/v1/datasets/{record['id']}"
    node: dict[str, Any] = {
        "@id": url,
        "@type": "dcat:Dataset",
        "dct:identifier": record["id"],
        "dct:title": _text(record["title"]),
        "dct:description": _text(record.get("description") or ""),
        "dcat:keyword": [_text(k) for k in record.get("keywords", [])],
        "dcat:theme": {
            "@id": f"{base}/v1/themes/{record['domain']}",
            "@type": "skos:Concept",
            "skos:prefLabel": _text(THEMES.get(record["domain"], record["domain"])),
        },
        "dct:publisher": {
            "@id": f"{base}/v1/departments/{record['owner']}",
            "@type": "foaf:Organization",
            "foaf:name": _text(publishers.get(record["owner"], record["owner"])),
        },
        "dct:issued": _time(record["issued"]),
        "dct:modified": _time(record["modified"]),
        "dct:accessRights": {"@id": ACCESS_RIGHTS[record["sensitivity"]]},
        "dct:accrualPeriodicity": {"@id": f"{EU}/frequency/{FREQUENCIES[record.get('update_frequency', 'irregular')]}"},
        "dct:spatial": [{"@type": "dct:Location", "skos:prefLabel": _text(town)} for town in record.get("spatial", [])],
        "dcat:distribution": [
            {
                "@id": f"{url}/records",
                "@type": "dcat:Distribution",
                "dct:title": _text(f"{record['title']}（接口）"),
                "dcat:accessURL": {"@id": f"{url}/records"},
                "dcat:mediaType": "application/json",
                "dct:format": "JSON",
                "dct:conformsTo": {
                    "@id": url,
                    "dct:description": _text(
                        "字段: " + ", ".join(f"{f['name']} ({TYPES[f['type']]})" for f in record["schema"]["fields"])
                    ),
                },
            }
        ],
    }
    if record.get("license"):
        node["dct:license"] = (
            {"@id": record["license"]}
            if record["license"].startswith("http")
            else {"@type": "dct:LicenseDocument", "dct:title": _text(record["license"])}
        )
    temporal = record.get("temporal") or {}
    if temporal:
        period: dict[str, Any] = {"@type": "dct:PeriodOfTime"}
        if temporal.get("start"):
            period["dcat:startDate"] = {"@value": temporal["start"], "@type": "xsd:date"}
        if temporal.get("end"):
            period["dcat:endDate"] = {"@value": temporal["end"], "@type": "xsd:date"}
        node["dct:temporal"] = period
    if record.get("last_version"):
        node["dcat:version"] = str(record["last_version"]["version"])
    return node


def catalog_document(
    records: list[dict[str, Any]],
    base: str,
    publishers: dict[str, str],
    total: int,
    this_page: str,
    next_page: str | None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "@id": f"{base}/v1/catalog.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": _text("城市大脑数据共享目录"),
        "dct:description": _text("区各部门发布的数据资源目录（元数据）。数据需按共享条件申请使用。"),
        "dct:publisher": {
            "@id": f"{base}/v1/departments/data-bureau",
            "@type": "foaf:Organization",
            "foaf:name": _text(publishers.get("data-bureau", "区政务服务数据管理局")),
        },
        "dct:language": {"@id": f"{EU}/language/ZHO"},
        "dcat:dataset": [dataset_node(r, base, publishers) for r in records],
        "hydra:view": {"@id": this_page, "@type": "hydra:PartialCollectionView", "hydra:totalItems": total},
    }
    if next_page:
        document["hydra:view"]["hydra:next"] = next_page
    return document
