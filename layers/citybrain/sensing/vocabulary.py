"""What the sensing network measures: device types, GB 3096-2008 acoustic zones,
the values each device type reports (FIWARE Smart Data Models names) with the
physical range a validator enforces, and which of them are sound levels in decibels
(rolled up with their energy as well, citybrain.sensing.rollups)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DeviceType(StrEnum):
    air_quality = "air_quality"
    traffic_flow = "traffic_flow"
    noise = "noise"
    water_level = "water_level"
    structure = "structure"


class AcousticZone(StrEnum):
    """Acoustic environment functional zone classes of GB 3096-2008."""

    zone0 = "0"
    zone1 = "1"
    zone2 = "2"
    zone3 = "3"
    zone4a = "4a"
    zone4b = "4b"


@dataclass(frozen=True)
class ValueSpec:
    unit: str
    low: float | None = None
    high: float | None = None
    boolean: bool = False


VALUES: dict[DeviceType, dict[str, ValueSpec]] = {
    DeviceType.air_quality: {
        "pm25": ValueSpec("µg/m³", 0, 2000),
        "pm10": ValueSpec("µg/m³", 0, 3000),
        "so2": ValueSpec("µg/m³", 0, 10000),
        "no2": ValueSpec("µg/m³", 0, 5000),
        "o3": ValueSpec("µg/m³", 0, 2000),
        "co": ValueSpec("mg/m³", 0, 200),
        "temperature": ValueSpec("°C", -50, 70),
        "relativeHumidity": ValueSpec("ratio 0-1", 0, 1),
    },
    DeviceType.traffic_flow: {
        "intensity": ValueSpec("vehicles/h", 0, 20000),
        "occupancy": ValueSpec("ratio 0-1", 0, 1),
        "averageVehicleSpeed": ValueSpec("km/h", 0, 250),
        "congested": ValueSpec("boolean", boolean=True),
    },
    DeviceType.noise: {
        "LAeq": ValueSpec("dB(A)", 0, 160),
        "LAmax": ValueSpec("dB(A)", 0, 180),
    },
    DeviceType.water_level: {
        "waterLevel": ValueSpec("m", -50, 200),
    },
    DeviceType.structure: {
        "tilt": ValueSpec("degrees", -90, 90),
        "crackWidth": ValueSpec("mm", 0, 500),
        "settlement": ValueSpec("mm", -2000, 2000),
    },
}

# Sound levels (dB): logarithmic, so an hour's level is an energy mean, 10·lg(mean of 10^(L/10)),
# never an arithmetic one; their rollups keep the energy sum (citybrain.sensing.rollups).
DECIBEL_VALUES: frozenset[str] = frozenset(
    name for specs in VALUES.values() for name, spec in specs.items() if spec.unit.startswith("dB")
)
