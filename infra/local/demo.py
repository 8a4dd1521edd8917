"""The demo district: six departments, sensors of every type in the seven towns,
and gateways feeding them live — all through the HTTP API, as real clients.

The values follow the district's day (Asia/Shanghai): traffic peaks 7-9 and
17-19, PM2.5 is higher at night and in winter and ozone in the afternoon, noise
drops at night, rivers rise and fall with the tide. Now and then a pollution
episode (PM2.5 climbing to 150-350 µg/m³ for some minutes) or a flood episode
(a gauge crossing its warning level, then falling back) plays out.

CITYBRAIN_DEMO_PACE=n runs the feed n times faster: sensors report n times as
often and episodes come, rise and pass n times sooner (observed times stay real
time). A quickened demo is for watching the alert lifecycle in a minute or two,
so its first pollution episode is a severe one: through AQI 200 (high) to over
300 (critical), then back to normal.
"""

from __future__ import annotations

import json
import math
import os
import random
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from citybrain.core.timeutil import LOCAL_TZ, local_iso, now_ms
from infra.local.safety_demo import DutyOfficer, seed_safety_demo
from infra.local.settings import DEMO_AGENT

DEPARTMENTS = [
    {"id": "transport", "name": "区交通运输局", "domain": "traffic"},
    {"id": "environment", "name": "区生态环境局", "domain": "environment"},
    {"id": "urban", "name": "区城市管理和综合执法局", "domain": "urban"},
    {"id": "housing", "name": "区住房城乡建设和水利局", "domain": "housing"},
    {"id": "health", "name": "区卫生健康局", "domain": "health"},
    {"id": "safety", "name": "区应急管理局", "domain": "safety"},
]

# code, town, centre (lat, lon), two main roads, the river its gauge stands on
# with 警戒/保证 levels (m), what its structure sensor watches.
TOWNS = [
    (
        "gc",
        "桂城街道",
        (23.030, 113.152),
        ("南海大道", "海八路"),
        ("佛山水道平洲段", 2.3, 3.1),
        ("平胜大桥", "housing"),
    ),
    (
        "dl",
        "大沥镇",
        (23.108, 113.118),
        ("广佛路", "沥桂路"),
        ("雅瑶水道大沥段", 2.6, 3.4),
        ("盐步老城区危旧房", "safety"),
    ),
    (
        "ls",
        "里水镇",
        (23.192, 113.148),
        ("里水大道", "和顺大道"),
        ("北江大堤里水段", 6.9, 8.6),
        ("里水河大桥", "housing"),
    ),
    (
        "ss",
        "狮山镇",
        (23.133, 112.997),
        ("狮山大道", "广云路"),
        ("北江大堤狮山段", 7.6, 9.3),
        ("狮山工业园旧厂房", "safety"),
    ),
    (
        "dz",
        "丹灶镇",
        (23.043, 112.918),
        ("丹灶大道", "金沙大道"),
        ("北江大堤丹灶段", 7.1, 8.8),
        ("丹灶大桥", "housing"),
    ),
    (
        "xq",
        "西樵镇",
        (22.936, 112.962),
        ("樵高路", "西樵大道"),
        ("西江大堤西樵段", 6.2, 7.8),
        ("西樵山景区危岩挡墙", "safety"),
    ),
    ("jj", "九江镇", (22.879, 113.027), ("九江大道", "沙口路"), ("西江大堤九江段", 5.6, 7.2), ("九江大桥", "housing")),
]

FIRST_FLOOD_GAUGE = "jj-water-01"
INTERVALS = {"traffic_flow": 10, "noise": 15, "air_quality": 30, "water_level": 30, "structure": 60}
GATEWAY_SECONDS = 5.0  # each department's gateway sends what its sensors measured since the last send


@dataclass
class DemoDevice:
    id: str
    type: str
    domain: str
    town: str
    owner: str
    name: str
    lat: float
    lon: float
    extra: dict[str, Any] = field(default_factory=dict)  # acoustic_zone / thresholds
    params: dict[str, float] = field(default_factory=dict)  # simulation constants

    def registration(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "domain": self.domain,
            "town": self.town,
            "name": self.name,
            "location": {"lat": self.lat, "lon": self.lon},
            "reporting_interval_seconds": INTERVALS[self.type],
            **self.extra,
        }


def _town_devices(
    code: str,
    town: str,
    centre: tuple[float, float],
    roads: tuple[str, ...],
    water: tuple[str, float, float],
    structure_of: tuple[str, str],
) -> list[DemoDevice]:
    """One town's devices: air, traffic on its roads, noise, its river's water level, a structure."""
    (lat, lon), (river, warning, guarantee), (structure, structure_owner) = centre, water, structure_of
    devices: list[DemoDevice] = []
    rng = random.Random(zlib.crc32(code.encode()))

    def near(spread: float = 0.012) -> tuple[float, float]:
        return round(lat + rng.uniform(-spread, spread), 5), round(lon + rng.uniform(-spread, spread), 5)

    def add(suffix: str, type_: str, domain: str, owner: str, name: str, spot=None, **extra) -> None:
        spot = spot or near()
        devices.append(DemoDevice(f"{code}-{suffix}", type_, domain, town, owner, name, spot[0], spot[1], extra))

    add("air-01", "air_quality", "environment", "environment", f"{town}空气质量自动监测站")
    for n, road in enumerate(roads, start=1):
        add(f"traffic-{n:02d}", "traffic_flow", "traffic", "transport", f"{road}车流检测器")
    add("noise-01", "noise", "environment", "environment", f"{roads[0]}道路交通噪声监测点", acoustic_zone="4a")
    add("noise-02", "noise", "environment", "environment", f"{town}居住区噪声监测点", acoustic_zone="2")
    add(
        "water-01",
        "water_level",
        "safety",
        "housing",
        f"{river}水位站",
        near(0.03),
        thresholds={"warning": warning, "guarantee": guarantee},
    )
    add(
        "struct-01",
        "structure",
        "housing" if structure_owner == "housing" else "safety",
        structure_owner,
        f"{structure}结构监测",
    )
    return devices


def district() -> list[DemoDevice]:
    devices: list[DemoDevice] = []
    for town in TOWNS:
        devices += _town_devices(*town)
    # Departments beyond environment that watch noise for their own reasons.
    devices += [
        DemoDevice(
            "gc-noise-03",
            "noise",
            "health",
            "桂城街道",
            "health",
            "区人民医院周边噪声监测点",
            23.0362,
            113.1443,
            {"acoustic_zone": "1"},
        ),
        DemoDevice(
            "ss-noise-03",
            "noise",
            "urban",
            "狮山镇",
            "urban",
            "狮山大学城建筑工地噪声监测点",
            23.1459,
            113.0132,
            {"acoustic_zone": "2"},
        ),
    ]
    for device in devices:
        rng = random.Random(zlib.crc32(device.id.encode()))
        device.params = {
            "scale": rng.uniform(0.85, 1.2),
            "phase": rng.uniform(0, 2 * math.pi),
            "capacity": rng.choice([1800, 2400, 3600]),
            "free_speed": rng.choice([50, 60, 70]),
            "tilt": rng.uniform(0.05, 0.3),
            "crack": rng.uniform(0.15, 0.4),
            "settlement": -rng.uniform(2, 8),
        }
    return devices


# -- the district's day ---------------------------------------------------------


def _bump(hour: float, centre: float, width: float) -> float:
    return math.exp(-(((hour - centre) / width) ** 2))


def traffic_share(moment: datetime) -> float:
    """Share of a road's capacity in use: a night floor, a daytime plateau, the
    two rush hours (weaker at weekends)."""
    hour = moment.hour + moment.minute / 60
    daytime = 1 / (1 + math.exp(-(hour - 6.5) * 2)) * 1 / (1 + math.exp((hour - 22) * 1.5))
    rush = 0.35 if moment.weekday() >= 5 else 0.5
    return 0.05 + 0.45 * daytime + rush * (_bump(hour, 8, 0.9) + _bump(hour, 18, 1.1))


def season(moment: datetime) -> float:
    """1 in the depth of winter (mid-January), -1 in high summer."""
    day = moment.timetuple().tm_yday
    return math.cos(2 * math.pi * (day - 15) / 365)


@dataclass
class Episode:
    kind: str  # "pollution" | "flood"
    device_id: str
    start_ms: int
    rise_ms: int
    hold_ms: int
    fall_ms: int
    peak: float  # PM2.5 in µg/m³, or metres above the warning level
    town: str = ""  # a flood jams the roads of its town

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.rise_ms + self.hold_ms + self.fall_ms

    def weight(self, t: int) -> float:
        """0 -> 1 over the rise, 1 while it holds, back to 0 over the fall."""
        into = t - self.start_ms
        if into < 0 or t >= self.end_ms:
            return 0.0
        if into < self.rise_ms:
            return 0.5 - 0.5 * math.cos(math.pi * into / self.rise_ms)
        if into < self.rise_ms + self.hold_ms:
            return 1.0
        out = (into - self.rise_ms - self.hold_ms) / self.fall_ms
        return 0.5 + 0.5 * math.cos(math.pi * out)


class Simulator:
    """The values a device measures at an instant, with some noise and memory."""

    def __init__(self, rng: random.Random | None = None):
        self.rng = rng or random.Random()
        self.drift: dict[str, float] = defaultdict(float)  # slow random walks per device
        self.episodes: list[Episode] = []

    def _walk(self, key: str, step: float, limit: float) -> float:
        value = self.drift[key] * 0.98 + self.rng.gauss(0, step)
        self.drift[key] = max(-limit, min(limit, value))
        return self.drift[key]

    def _flooded(self, town: str, t: int) -> float:
        """How far into a flood of its town a road is (0 when there is none)."""
        return max((e.weight(t) for e in self.episodes if e.kind == "flood" and e.town == town), default=0.0)

    def _episode(self, kind: str, device_id: str, t: int) -> tuple[float, float]:
        for episode in self.episodes:
            if episode.kind == kind and episode.device_id == device_id:
                weight = episode.weight(t)
                if weight:
                    return weight, episode.peak
        return 0.0, 0.0

    def values(self, device: DemoDevice, t: int) -> dict[str, Any]:
        moment = datetime.fromtimestamp(t / 1000, LOCAL_TZ)
        return getattr(self, "_" + device.type)(device, t, moment, moment.hour + moment.minute / 60)

    def _air_quality(self, d: DemoDevice, t: int, moment: datetime, hour: float) -> dict[str, Any]:
        p, g = d.params, self.rng.gauss
        winter = season(moment)
        night = math.cos(2 * math.pi * (hour - 3) / 24)  # the boundary layer is lowest before dawn
        pm25 = (
            28 * p["scale"] * (1 + 0.45 * winter) * (1 + 0.25 * night) * math.exp(self._walk(d.id + "pm", 0.03, 0.35))
        )
        weight, peak = self._episode("pollution", d.id, t)
        pm25 = pm25 + weight * max(0.0, peak - pm25) + g(0, 1.5)
        traffic = traffic_share(moment)
        sun = max(0.0, math.sin(math.pi * (hour - 8) / 12))  # ozone follows the afternoon sun
        temperature = 22.5 + 7.5 * -winter + 3.5 * math.cos(2 * math.pi * (hour - 15) / 24)
        return {
            "pm25": round(max(1.0, pm25), 1),
            "pm10": round(max(2.0, pm25 * (1.55 + g(0, 0.05)) + g(0, 3)), 1),
            "no2": round(max(2.0, 18 + 40 * traffic * p["scale"] + g(0, 3)), 1),
            "so2": round(max(1.0, 7 * p["scale"] + g(0, 1)), 1),
            "o3": round(max(2.0, 25 + (95 - 25 * winter) * sun + g(0, 5)), 1),
            "co": round(max(0.1, 0.55 + 0.45 * traffic + 0.1 * winter + g(0, 0.04)), 2),
            "temperature": round(temperature + g(0, 0.3), 1),
            "relativeHumidity": round(
                min(0.99, max(0.3, 0.76 + 0.12 * math.cos(2 * math.pi * (hour - 4) / 24) - 0.06 * winter + g(0, 0.02))),
                2,
            ),
        }

    def _traffic_flow(self, d: DemoDevice, t: int, moment: datetime, hour: float) -> dict[str, Any]:
        p = d.params
        load = max(0.01, traffic_share(moment) * (1 + self.rng.gauss(0, 0.07)) * min(p["scale"], 1.05))
        speed = p["free_speed"] * max(0.12, 1 - 0.8 * min(load, 1.2) ** 4) * (1 + self.rng.gauss(0, 0.04))
        occupancy = min(0.95, 0.02 + 0.3 * load**1.6)
        if self._flooded(d.town, t) > 0.5:  # water on the road: traffic crawls, the road fills up
            speed, occupancy = min(speed, 8 + self.rng.uniform(0, 4)), max(occupancy, 0.85)
        return {
            "intensity": int(p["capacity"] * load),
            "occupancy": round(occupancy, 3),
            "averageVehicleSpeed": round(max(3.0, speed), 1),
            "congested": speed < 20 or occupancy > 0.3,
        }

    def _noise(self, d: DemoDevice, t: int, moment: datetime, hour: float) -> dict[str, Any]:
        base = {"0": 45, "1": 50, "2": 55, "3": 60, "4a": 64, "4b": 62}[d.extra["acoustic_zone"]]
        night = hour >= 22 or hour < 6
        level = base - (9 if night else 0) + 4 * traffic_share(moment) + self.rng.gauss(0, 1.5)
        return {"LAeq": round(level, 1), "LAmax": round(level + 10 + self.rng.expovariate(1 / 5), 1)}

    def _water_level(self, d: DemoDevice, t: int, moment: datetime, hour: float) -> dict[str, Any]:
        warning = d.extra["thresholds"]["warning"]
        tide = 0.3 * math.sin(2 * math.pi * t / (12.42 * 3_600_000) + d.params["phase"])
        normal = warning - 1.5 + tide + self._walk(d.id, 0.01, 0.3)
        weight, above = self._episode("flood", d.id, t)
        level = normal + weight * (warning + above - normal) if weight else normal
        return {"waterLevel": round(level + self.rng.gauss(0, 0.005), 3)}

    def _structure(self, d: DemoDevice, t: int, moment: datetime, hour: float) -> dict[str, Any]:
        p = d.params
        thermal = math.sin(2 * math.pi * (hour - 9) / 24)  # sun-warmed faces lean a little
        return {
            # An inclinometer resolves about 0.0005°, a crack meter 0.001 mm: noise well under the
            # rules' rate limits (0.1°/h, 0.2 mm/h at one reading a minute), as on a sound structure.
            "tilt": round(p["tilt"] + 0.01 * thermal + self.rng.gauss(0, 0.0003), 4),
            "crackWidth": round(p["crack"] + 0.01 * thermal + self.rng.gauss(0, 0.0005), 4),
            "settlement": round(p["settlement"] + self._walk(d.id, 0.003, 0.5), 2),
        }


def plan_episode(
    kind: str,
    devices: list[DemoDevice],
    start_ms: int,
    rng: random.Random,
    pace: int = 1,
    severe: bool = False,
    device_id: str | None = None,
) -> Episode:
    """`pace` shortens the episode's minutes. A severe pollution episode peaks at PM2.5
    280-350 µg/m³ (AQI over 300) after the longest rise, so that its readings pass through
    the high band (AQI 201-300) before it turns critical."""
    minute = 60_000 // pace
    if kind == "pollution":
        device = rng.choice([d for d in devices if d.type == "air_quality"])
        rise = 4 if severe else rng.randint(2, 4)
        return Episode(
            kind,
            device.id,
            start_ms,
            rise * minute,
            rng.randint(2, 5) * minute,
            rng.randint(3, 5) * minute,
            rng.uniform(280, 350) if severe else rng.uniform(150, 350),
        )
    gauges = [d for d in devices if d.type == "water_level"]
    device = next((d for d in gauges if d.id == device_id), None) or rng.choice(gauges)
    return Episode(
        kind,
        device.id,
        start_ms,
        rng.randint(3, 5) * minute,
        rng.randint(2, 4) * minute,
        rng.randint(5, 8) * minute,
        rng.uniform(0.15, 0.6),
        device.town,
    )


# -- talking to the API ----------------------------------------------------------


class DemoDistrict:
    """Sets the district up through the API and runs its gateways."""

    def __init__(
        self,
        api_url: str,
        admin_key: str,
        keys_file: Path,
        say: Callable[[str], None],
        rng: random.Random | None = None,
        pace: int = 1,
    ):
        import requests

        self.api = api_url.rstrip("/")
        self.admin_key = admin_key
        self.keys_file = keys_file
        self.say = say
        self.rng = rng or random.Random()
        self.pace = pace
        self.http = requests.Session()
        self.devices = district()
        self.keys: dict[str, str] = {}
        self.simulator = Simulator(self.rng)

    def _call(self, method: str, path: str, key: str, body: Any = None):
        return self.http.request(
            method,
            self.api + path,
            json=body,
            timeout=30,
            headers={"X-Api-Key": key, "User-Agent": f"{DEMO_AGENT}-gateway"},
        )

    def _saved_keys(self) -> dict[str, str]:
        try:
            saved = json.loads(self.keys_file.read_text())
        except (OSError, ValueError):
            return {}
        return {k: v["api_key"] for k, v in saved.get("departments", {}).items()}

    def _usable(self, key: str) -> bool:
        return self._call("GET", "/v1/departments", key).status_code == 200

    def set_up(self) -> None:
        """Departments and devices; safe to run again on the same emulated AWS."""
        saved = self._saved_keys()
        for department in DEPARTMENTS:
            response = self._call("POST", "/v1/departments", self.admin_key, department)
            if response.status_code == 201:
                self.keys[department["id"]] = response.json()["api_key"]
            elif response.status_code == 409:
                key = saved.get(department["id"])
                # A key is shown only once; without it the data bureau's key may send for any device.
                self.keys[department["id"]] = key if key and self._usable(key) else self.admin_key
            else:
                raise RuntimeError(f"creating department {department['id']}: {response.status_code} {response.text}")
        from infra.local.exchange_demo import EXCHANGE_DEPARTMENTS, seed_exchange_demo

        for department in EXCHANGE_DEPARTMENTS:  # a resumed district: their keys are kept, not lost from the file
            key = saved.get(department["id"])
            if key and self._usable(key):
                self.keys[department["id"]] = key
        created = 0
        for device in self.devices:
            response = self._call("POST", "/v1/devices", self.keys[device.owner], device.registration())
            if response.status_code == 201:
                created += 1
            elif response.status_code != 409:
                raise RuntimeError(f"registering {device.id}: {response.status_code} {response.text}")
        exchange = seed_exchange_demo(self._call, self.keys, self.admin_key, say=self.say)
        seed_safety_demo(self._call, self.keys, self.admin_key, say=self.say)
        self._save_keys()
        towns = len({d.town for d in self.devices})
        rate = sum(self.pace / INTERVALS[d.type] for d in self.devices)
        self.say(
            f"demo district ready: {len(self.keys)} departments, {len(self.devices)} devices "
            f"({created} new) in {towns} towns, {len(exchange['published'])} datasets newly published; "
            f"live feed about {rate:.1f} readings/s"
        )

    def _save_keys(self) -> None:
        self.keys_file.parent.mkdir(parents=True, exist_ok=True)
        from infra.local.exchange_demo import EXCHANGE_DEPARTMENTS

        body = {
            "api": self.api,
            "admin": self.admin_key,
            "departments": {
                d["id"]: {"name": d["name"], "api_key": self.keys[d["id"]]}
                for d in DEPARTMENTS + EXCHANGE_DEPARTMENTS
                if d["id"] in self.keys
            },
        }
        fd = os.open(self.keys_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(body, handle, ensure_ascii=False, indent=2)

    def feed(self, stop: threading.Event) -> None:
        """Every few seconds each department's gateway posts what its sensors measured."""
        start = now_ms()
        minute = 60_000 // self.pace
        # ms between readings; structures move by the hour, so theirs keep real time (a quickened
        # feed would turn their sensor noise into rates of change no sound structure has)
        step = {
            kind: seconds * 1000 // (1 if kind == "structure" else self.pace) for kind, seconds in INTERVALS.items()
        }
        due = {d.id: start + int(self.rng.uniform(0, step[d.type])) for d in self.devices}
        next_episode = {"pollution": start + 3 * minute, "flood": start + 6 * minute}
        severe = {"pollution"} if self.pace > 1 else set()  # the first one of a quickened demo (see above)
        # The first flood rises at 九江's 西江 embankment, a risk point: its roads jam, and the two domains
        # fuse into one incident that the command centre's duty officer takes through its case.
        first_flood: str | None = FIRST_FLOOD_GAUGE
        duty = DutyOfficer(self._call, self.keys, self.say, self.pace)
        next_duty = time.monotonic()
        sent = rejected = 0
        last_report = time.monotonic()
        while not stop.wait(max(1.0, GATEWAY_SECONDS / self.pace)):
            now = now_ms()
            if time.monotonic() >= next_duty:
                next_duty = time.monotonic() + duty.every
                try:
                    duty.round()
                except Exception as exc:  # the API restarting: the next round goes on
                    self.say(f"duty officer: {exc}")
            for kind, at in next_episode.items():
                if now >= at:
                    self._start_episode(kind, now, kind in severe, first_flood if kind == "flood" else None)
                    if kind == "flood":
                        first_flood = None
                    severe.discard(kind)
                    next_episode[kind] = now + self.rng.randint(20, 45) * minute
            self.simulator.episodes = [e for e in self.simulator.episodes if e.end_ms > now]
            batches: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for device in self.devices:
                # After the machine slept, a gateway sends the last few minutes, not hours of backlog.
                due[device.id] = max(due[device.id], now - 5 * minute)
                while due[device.id] <= now:
                    t = due[device.id]
                    batches[device.owner].append(
                        {
                            "device_id": device.id,
                            "observed_at": local_iso(t),
                            "values": self.simulator.values(device, t),
                        }
                    )
                    due[device.id] = t + step[device.type]
            for owner, readings in batches.items():
                try:
                    response = self._call("POST", "/v1/readings", self.keys[owner], {"readings": readings})
                except Exception as exc:
                    if stop.is_set():
                        return
                    self.say(f"{owner} gateway: {exc}")
                    continue
                if response.status_code != 202:
                    self.say(f"{owner} gateway: {response.status_code} {response.text[:300]}")
                    continue
                result = response.json()
                sent += result["accepted"]
                rejected += len(result["rejected"])
                for item in result["rejected"][:3]:
                    self.say(f"{owner} gateway: reading rejected: {item}")
            if time.monotonic() - last_report >= 60:
                self.say(f"feed: {sent} readings accepted, {rejected} rejected in the last minute")
                sent = rejected = 0
                last_report = time.monotonic()

    def _start_episode(self, kind: str, now: int, severe: bool = False, device_id: str | None = None) -> None:
        episode = plan_episode(kind, self.devices, now, self.rng, self.pace, severe, device_id)
        self.simulator.episodes.append(episode)
        device = next(d for d in self.devices if d.id == episode.device_id)
        seconds = (episode.end_ms - episode.start_ms) // 1000
        lasts = f"~{seconds // 60} min" if seconds >= 120 else f"~{seconds} s"
        if kind == "pollution":
            self.say(
                f"pollution episode at {device.town} ({device.id}): PM2.5 climbing to about "
                f"{episode.peak:.0f} µg/m³, over in {lasts}"
            )
        else:
            warning = device.extra["thresholds"]["warning"]
            self.say(
                f"flood episode on {device.name} ({device.id}): rising {episode.peak:.2f} m above the "
                f"warning level {warning} m, receding within {lasts}"
            )

    def try_this(self) -> str:
        key = self.keys["environment"]
        url = self.api
        return "\n".join(
            [
                f"keys of the demo departments: {self.keys_file}",
                *(f"  {d['id']:<12} {self.keys[d['id']]}  {d['name']}" for d in DEPARTMENTS),
                f"dashboard (城市运行总览): {dashboard_url(url)}  (it asks once for one of these keys)",
                "try this:",
                f"  curl -s {url}/v1/health",
                f"  curl -s -H 'X-Api-Key: {key}' {url}/v1/devices/gc-air-01",
                f"  curl -s -G -H 'X-Api-Key: {key}' --data-urlencode 'town=九江镇' {url}/v1/devices",
                f"  curl -s -H 'X-Api-Key: {key}' '{url}/v1/devices/gc-air-01/readings?limit=5'",
                f"  curl -s -H 'X-Api-Key: {key}' -H 'Content-Type: application/json' {url}/v1/readings \\",
                '       -d \'{"readings": [{"device_id": "gc-air-01", "observed_at": '
                f'{now_ms()}, "values": {{"pm25": 42}}}}]}}\'',
            ]
        )


def dashboard_url(api_url: str) -> str:
    return f"{api_url.rstrip('/')}/dashboard"


def empty_district_hint(api_url: str, admin_key: str) -> str:
    return "\n".join(
        [
            "an empty district (CITYBRAIN_DEMO=0); try this:",
            f"  curl -s {api_url}/v1/health",
            f"  curl -s -H 'X-Api-Key: {admin_key}' -H 'Content-Type: application/json' {api_url}/v1/departments \\",
            '       -d \'{"id": "transport", "name": "区交通运输局", "domain": "traffic"}\'',
        ]
    )
