"""The demo district: valid devices everywhere, and values that follow the district's day."""

import random
from datetime import datetime, timedelta
from statistics import mean

from citybrain.core.timeutil import LOCAL_TZ
from citybrain.core.vocabulary import Town
from citybrain.sensing.devices import DeviceIn
from citybrain.sensing.readings import check_values
from citybrain.sensing.vocabulary import DeviceType
from infra.local.demo import DEPARTMENTS, Episode, Simulator, district


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_every_device_type_stands_in_every_town_and_registers_cleanly():
    devices = district()
    assert {(d.town, d.type) for d in devices} == {(t.value, k.value) for t in Town for k in DeviceType}
    assert len({d.id for d in devices}) == len(devices)
    assert {d.owner for d in devices} <= {dep["id"] for dep in DEPARTMENTS}
    for device in devices:
        DeviceIn.model_validate(device.registration())
        assert 22.8 < device.lat < 23.25 and 112.85 < device.lon < 113.2


def test_simulated_values_stay_within_the_validator_ranges_for_two_days():
    simulator = Simulator(random.Random(7))
    start = datetime(2026, 1, 14, tzinfo=LOCAL_TZ)
    for device in district():
        for step in range(0, 48 * 60, 7):
            values = simulator.values(device, ms(start + timedelta(minutes=step)))
            assert check_values(DeviceType(device.type), values) == [], (device.id, values)


def _daily(device_type: str, value: str, hour: int, day: datetime, samples: int = 30) -> float:
    simulator = Simulator(random.Random(1))
    device = next(d for d in district() if d.type == device_type)
    return mean(
        simulator.values(device, ms(day.replace(hour=hour) + timedelta(minutes=m)))[value] for m in range(samples)
    )


def test_traffic_peaks_at_rush_hours():
    weekday = datetime(2026, 11, 26, tzinfo=LOCAL_TZ)  # a Thursday
    night, morning, noon, evening = (_daily("traffic_flow", "intensity", h, weekday) for h in (3, 8, 13, 18))
    assert morning > 1.3 * noon and evening > 1.3 * noon and noon > 3 * night


def test_pm25_is_higher_at_night_and_in_winter_noise_lower_at_night():
    winter, summer = datetime(2026, 1, 15, tzinfo=LOCAL_TZ), datetime(2026, 7, 15, tzinfo=LOCAL_TZ)
    assert _daily("air_quality", "pm25", 3, winter) > 1.2 * _daily("air_quality", "pm25", 15, winter)
    assert _daily("air_quality", "pm25", 3, winter) > 1.5 * _daily("air_quality", "pm25", 3, summer)
    assert _daily("noise", "LAeq", 2, winter) < _daily("noise", "LAeq", 10, winter) - 5


def test_a_pollution_episode_peaks_between_150_and_350_and_passes():
    device = next(d for d in district() if d.type == "air_quality")
    start = ms(datetime(2026, 11, 27, 14, tzinfo=LOCAL_TZ))
    simulator = Simulator(random.Random(3))
    simulator.episodes = [Episode("pollution", device.id, start, 180_000, 120_000, 240_000, 260.0)]
    series = [simulator.values(device, start + s * 1000)["pm25"] for s in range(0, 600, 10)]
    assert 150 <= max(series) <= 350
    assert series[0] < 100 and series[-1] < 100


def test_a_flood_episode_crosses_the_warning_level_and_recedes():
    device = next(d for d in district() if d.type == "water_level")
    warning = device.extra["thresholds"]["warning"]
    start = ms(datetime(2026, 6, 10, 9, tzinfo=LOCAL_TZ))
    simulator = Simulator(random.Random(5))
    simulator.episodes = [Episode("flood", device.id, start, 240_000, 120_000, 360_000, 0.3)]
    series = [simulator.values(device, start + s * 1000)["waterLevel"] for s in range(0, 780, 15)]
    assert series[0] < warning and max(series) > warning and series[-1] < warning


def test_a_quickened_demo_opens_with_a_severe_episode_that_passes_high_before_critical():
    from citybrain.sensing.aqi import air_quality
    from infra.local.demo import INTERVALS, plan_episode

    devices = district()
    for pace in (1, 20):
        step = INTERVALS["air_quality"] * 1000 // pace
        for seed in range(40):
            rng = random.Random(seed)
            start = ms(datetime(2026, 1 + seed % 12, 10, seed % 24, tzinfo=LOCAL_TZ))
            episode = plan_episode("pollution", devices, start, rng, pace, severe=True)
            assert episode.end_ms - episode.start_ms <= 14 * 60_000 // pace
            device = next(d for d in devices if d.id == episode.device_id)
            simulator = Simulator(rng)
            simulator.episodes = [episode]
            offset = rng.randrange(step)  # where the station's reporting falls against the episode
            times = range(start + offset, episode.end_ms + 3 * step, step)
            aqi = [air_quality(simulator.values(device, t))["airQualityIndex"] for t in times]
            first_critical = next(i for i, value in enumerate(aqi) if value > 300)
            assert any(200 < value <= 300 for value in aqi[:first_critical]), (pace, seed, aqi)
            assert all(value <= 200 for value in aqi[-3:]), (pace, seed, aqi)  # enough to resolve it


def test_an_ordinary_episode_keeps_its_minutes_and_its_150_to_350_peak():
    from infra.local.demo import plan_episode

    devices = district()
    for seed in range(40):
        episode = plan_episode("pollution", devices, 0, random.Random(seed))
        assert 150 <= episode.peak <= 350
        assert 7 * 60_000 <= episode.end_ms <= 14 * 60_000
        quick = plan_episode("pollution", devices, 0, random.Random(seed), pace=20)
        assert (quick.peak, quick.device_id, quick.end_ms) == (episode.peak, episode.device_id, episode.end_ms // 20)


def test_the_demo_prints_the_dashboard_address_with_its_keys(tmp_path):
    from infra.local.demo import DemoDistrict

    district = DemoDistrict("http://127.0.0.1:8000", "cb_admin", tmp_path / "demo-keys.json", say=print)
    district.keys = {d["id"]: f"cb_{d['id']}" for d in DEPARTMENTS}
    hint = district.try_this()
    assert "http://127.0.0.1:8000/dashboard" in hint
    assert hint.index("cb_environment") < hint.index("/dashboard")  # the keys it asks for come first


def test_a_flood_jams_the_roads_of_its_town_and_only_there():
    import random

    from infra.local.demo import plan_episode

    devices = district()
    start = 1_796_083_200_000
    episode = plan_episode("flood", devices, start, random.Random(7), pace=1, device_id="jj-water-01")
    assert (episode.device_id, episode.town) == ("jj-water-01", "九江镇")
    simulator = Simulator(random.Random(3))
    simulator.episodes = [episode]
    at_peak = episode.start_ms + episode.rise_ms + 1000
    flooded = next(d for d in devices if d.id == "jj-traffic-01")
    dry = next(d for d in devices if d.id == "gc-traffic-01")
    jammed = simulator.values(flooded, at_peak)
    assert jammed["averageVehicleSpeed"] < 20 and jammed["occupancy"] >= 0.85
    assert simulator.values(flooded, episode.end_ms + 1000)["occupancy"] < 0.85
    assert simulator.values(dry, at_peak)["occupancy"] < 0.85
