"""The demo district's big-safety side: its risk registry (bridges over the 北江 and 西江
tributaries, a flood-prone underpass in 桂城, the chemical park in 狮山, a reservoir in
西樵, a busy market square in 大沥, the 西江 embankment at 九江), a few urban-management
cases at different steps, and the command centre's duty officer, who takes every new
incident through its case — registered, dispatched, acknowledged, fed back — and closes
both once the incident's alerts are resolved.

Everything goes through the API as the departments would, and is safe to run again on a
district that already has it (a resumed local stack)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

COMMAND_CENTRE = "safety"  # 区应急管理局, the default CITYBRAIN_COMMAND_CENTRE

RISK_POINTS: list[dict[str, Any]] = [
    {
        "name": "西江大堤九江段",
        "category": "natural_disaster",
        "kind": "堤防",
        "town": "九江镇",
        "location": {"lat": 22.866, "lon": 113.035},
        "risk_level": "major",
        "department": "housing",
        "devices": ["jj-water-01", "jj-traffic-01", "jj-traffic-02"],
        "contacts": [{"name": "九江镇防汛值班室", "phone": "0757-86501110", "role": "24 小时值班"}],
    },
    {
        "name": "九江大桥",
        "category": "lifeline",
        "kind": "桥梁",
        "town": "九江镇",
        "location": {"lat": 22.873, "lon": 113.018},
        "risk_level": "large",
        "department": "housing",
        "devices": ["jj-struct-01"],
    },
    {
        "name": "平胜大桥",
        "category": "lifeline",
        "kind": "桥梁",
        "town": "桂城街道",
        "location": {"lat": 23.041, "lon": 113.165},
        "risk_level": "large",
        "department": "housing",
        "devices": ["gc-struct-01"],
    },
    {
        "name": "海八路下穿隧道",
        "category": "natural_disaster",
        "kind": "下穿隧道",
        "town": "桂城街道",
        "location": {"lat": 23.025, "lon": 113.141},
        "risk_level": "major",
        "department": "transport",
        "devices": ["gc-traffic-02", "gc-water-01"],
    },
    {
        "name": "狮山化工园区",
        "category": "production_safety",
        "kind": "危险化学品园区",
        "town": "狮山镇",
        "location": {"lat": 23.141, "lon": 112.985},
        "risk_level": "major",
        "department": "safety",
        "devices": ["ss-air-01", "ss-struct-01"],
    },
    {
        "name": "西樵山水库",
        "category": "natural_disaster",
        "kind": "水库",
        "town": "西樵镇",
        "location": {"lat": 22.929, "lon": 112.975},
        "risk_level": "large",
        "department": "housing",
        "devices": ["xq-water-01"],
    },
    {
        "name": "大沥布匹市场广场",
        "category": "public_safety",
        "kind": "人员密集场所",
        "town": "大沥镇",
        "location": {"lat": 23.112, "lon": 113.122},
        "risk_level": "general",
        "department": "urban",
        "devices": ["dl-traffic-01", "dl-noise-02"],
    },
]

# (reported by, the case, how far it has come: the steps after reporting, each (key owner, action, body));
# the action "photo" uploads a site photo of the stage its body names, and a feedback shows those of its own
# stage.
URBAN_CASES: list[tuple[str, dict[str, Any], list[tuple[str, str, dict[str, Any] | None]]]] = [
    (
        "urban",
        {
            "category": "部件",
            "subcategory": "井盖缺失",
            "description": "南海大道与海八路交叉口人行道井盖缺失",
            "town": "桂城街道",
            "location": {"lat": 23.031, "lon": 113.151},
        },
        [
            ("urban", "photo", {"stage": "report"}),
            (COMMAND_CENTRE, "register", None),
            (COMMAND_CENTRE, "dispatch", {"lead": "housing", "note": "请住建水利局更换井盖"}),
            ("housing", "acknowledge", None),
            ("housing", "photo", {"stage": "feedback"}),
            ("housing", "feedback", {"note": "已更换球墨铸铁井盖并设置警示"}),
            (COMMAND_CENTRE, "close", None),
        ],
    ),
    (
        "urban",
        {
            "category": "事件",
            "subcategory": "占道经营",
            "description": "广佛路沿线早市占道经营，影响车辆通行",
            "town": "大沥镇",
            "location": {"lat": 23.107, "lon": 113.116},
        },
        [
            (COMMAND_CENTRE, "register", None),
            (COMMAND_CENTRE, "dispatch", {"lead": "urban", "supporting": ["transport"]}),
            ("urban", "acknowledge", None),
        ],
    ),
    (
        "transport",
        {
            "category": "部件",
            "subcategory": "路灯不亮",
            "description": "里水大道 K3+200 一段路灯连续三晚不亮",
            "town": "里水镇",
            "location": {"lat": 23.193, "lon": 113.149},
        },
        [],
    ),
]

Call = Callable[..., Any]


def seed_safety_demo(call: Call, keys: dict[str, str], admin_key: str, say: Callable[[str], None]) -> dict[str, int]:
    """The risk points and the urban cases, once."""
    listed = call("GET", "/v1/risk-points?limit=1000", admin_key)
    existing = {p["name"] for p in listed.json()["items"]} if listed.status_code == 200 else set()
    registered = 0
    for point in RISK_POINTS:
        if point["name"] in existing:
            continue
        response = call("POST", "/v1/risk-points", keys.get(point["department"], admin_key), point)
        if response.status_code != 201:
            raise RuntimeError(f"registering risk point {point['name']}: {response.status_code} {response.text}")
        registered += 1
    cases = call("GET", "/v1/cases?limit=1", admin_key)
    seeded = 0
    if cases.status_code == 200 and not cases.json()["items"]:
        for reporter, case, steps in URBAN_CASES:
            response = call("POST", "/v1/cases", keys[reporter], case)
            if response.status_code != 201:
                raise RuntimeError(f"reporting case {case['subcategory']}: {response.status_code} {response.text}")
            case_id = response.json()["id"]
            feedback_photos: list[str] = []
            for owner, action, body in steps:
                if action == "photo" and body:
                    photo = upload_photo(call, keys[owner], case_id, body["stage"])
                    if body["stage"] == "feedback":
                        feedback_photos.append(photo)
                    continue
                if action == "feedback" and body and feedback_photos:
                    body = {**body, "photos": feedback_photos}
                moved = call("POST", f"/v1/cases/{case_id}/{action}", keys[owner], body)
                if moved.status_code != 200:
                    raise RuntimeError(f"case {case_id} {action}: {moved.status_code} {moved.text}")
            seeded += 1
    if registered or seeded:
        say(f"big safety: {registered} risk points registered, {seeded} urban-management cases under way")
    return {"risk_points": registered, "cases": seeded}


def upload_photo(call: Call, key: str, case_id: str, stage: str) -> str:
    """A site photo (现场照片) as a department's app sends one: the URL asked for, then the PUT."""
    import requests

    image = site_photo()
    body = {"content_type": "image/png", "size": len(image), "stage": stage}
    asked = call("POST", f"/v1/cases/{case_id}/photos", key, body)
    if asked.status_code != 201:
        raise RuntimeError(f"case {case_id} photo: {asked.status_code} {asked.text[:200]}")
    upload = asked.json()
    put = requests.put(upload["url"], data=image, headers=upload["headers"], timeout=30)
    if put.status_code != 200:
        raise RuntimeError(f"case {case_id} photo PUT: {put.status_code} {put.text[:200]}")
    return str(upload["id"])


def site_photo(width: int = 64, height: int = 48) -> bytes:
    """A small PNG (grey asphalt with a dark opening), made with the standard library."""
    import struct
    import zlib

    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            inside = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (height / 4) ** 2
            rows.extend((30, 30, 34) if inside else (128, 128, 120))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows))) + chunk(b"IEND", b"")
    )


class DutyOfficer:
    """The command centre's duty officer (值班员): a case for every new incident, dispatched to
    the departments it involves, and closed with the incident once its alerts are resolved."""

    def __init__(self, call: Call, keys: dict[str, str], say: Callable[[str], None], pace: int = 1):
        self.call = call
        self.keys = keys
        self.say = say
        self.every = max(1.0, 10.0 / pace)
        self.cases: dict[str, str] = {}  # incident id -> its case id

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.every):
            try:
                self.round()
            except Exception as exc:  # the API restarting, a hiccup: the next round goes on
                if stop.is_set():
                    return
                self.say(f"duty officer: {exc}")

    def round(self) -> None:
        centre = self.keys[COMMAND_CENTRE]
        listed = self.call("GET", "/v1/incidents?status=open&limit=50", centre)
        if listed.status_code != 200:
            return
        for incident in listed.json()["items"]:
            case_id = self.cases.get(incident["id"]) or self._case_of(incident)
            case = self.call("GET", f"/v1/cases/{case_id}", centre).json()
            if case["status"] == "processing":
                self._feed_back(case)
            elif case["status"] == "fed_back" and self._alerts_resolved(incident):
                self._move(case["id"], COMMAND_CENTRE, "close", None)
                note = {"note": "险情解除，处置完毕"}
                self.call("POST", f"/v1/incidents/{incident['id']}/close", centre, note)
                self.say(f"duty officer: incident {incident['id']} and its case {case['id']} closed")

    def _case_of(self, incident: dict[str, Any]) -> str:
        """The incident's case: found among the cases (a resumed district) or opened now."""
        centre = self.keys[COMMAND_CENTRE]
        for case in self.call("GET", "/v1/cases?limit=200", centre).json()["items"]:
            if case.get("incident_id") == incident["id"]:
                self.cases[incident["id"]] = case["id"]
                return case["id"]
        body = {
            "category": "事件",
            "subcategory": f"{incident['category_name']}处置",
            "description": f"{incident['town']}{incident['grade_name']}事件：涉及 {'、'.join(incident['domains'])}",
            "town": incident["town"],
            "location": incident.get("location") or {"lat": 22.88, "lon": 113.03},
            "incident_id": incident["id"],
        }
        case_id = self.call("POST", "/v1/cases", centre, body).json()["id"]
        self.cases[incident["id"]] = case_id
        involved = [d for d in incident["departments"] if d in self.keys and d != COMMAND_CENTRE] or ["urban"]
        lead, supporting = involved[0], involved[1:]
        self._move(case_id, COMMAND_CENTRE, "register", None)
        self._move(case_id, COMMAND_CENTRE, "dispatch", {"lead": lead, "supporting": supporting})
        for department in [*supporting, lead]:
            self._move(case_id, department, "acknowledge", None)
        self.say(f"duty officer: incident {incident['id']} ({incident['grade_name']}) → case {case_id}, lead {lead}")
        return case_id

    def _feed_back(self, case: dict[str, Any]) -> None:
        self._move(case["id"], case["lead"], "feedback", {"note": "已到场处置，持续监测"})

    def _alerts_resolved(self, incident: dict[str, Any]) -> bool:
        """The danger has passed: the alerts of the incident's risk points' devices are resolved
        (of every alert it joins when it has no risk point; others may still be worked on)."""
        centre = self.keys[COMMAND_CENTRE]
        watched: set[str] = set()
        for point_id in incident["risk_points"]:
            point = self.call("GET", f"/v1/risk-points/{point_id}", centre)
            if point.status_code == 200:
                watched.update(point.json()["devices"])
        for alert_id in incident["alerts"]:
            alert = self.call("GET", f"/v1/alerts/{alert_id}", centre)
            if alert.status_code != 200:
                continue
            found = alert.json()
            if (not watched or found["device_id"] in watched) and found["status"] != "resolved":
                return False
        return True

    def _move(self, case_id: str, owner: str, action: str, body: dict[str, Any] | None) -> None:
        response = self.call("POST", f"/v1/cases/{case_id}/{action}", self.keys[owner], body)
        if response.status_code not in (200, 409):  # 409: done already by an earlier round
            raise RuntimeError(f"case {case_id} {action}: {response.status_code} {response.text[:200]}")
