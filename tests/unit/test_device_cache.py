"""The registry records a process keeps for the ingest (citybrain.sensing.devices.Devices)."""

from citybrain.departments.models import Principal
from citybrain.sensing.devices import DeviceIn, Devices


class CountingStore:
    def __init__(self):
        self.records = {}
        self.reads = []

    def create(self, record):
        if record["id"] in self.records:
            return False
        self.records[record["id"]] = record
        return True

    def replace(self, record):
        self.records[record["id"]] = record

    def get(self, device_id):
        return self.records.get(device_id)

    def get_many(self, device_ids):
        self.reads.append(sorted(device_ids))
        return {d: self.records[d] for d in device_ids if d in self.records}


class Clock:
    now = 1000.0

    def __call__(self):
        return self.now


OWNER = Principal(department_id="environment", role="department")


def body(device_id, town="桂城街道"):
    return DeviceIn.model_validate(
        {
            "id": device_id,
            "type": "air_quality",
            "domain": "environment",
            "town": town,
            "location": {"lat": 23.03, "lon": 113.15},
        }
    )


def test_a_gateways_next_step_reads_nothing_until_the_records_expire():
    store, clock = CountingStore(), Clock()
    devices = Devices(store, readings=None, cache_seconds=60, clock=clock)
    devices.register(OWNER, body("a"))
    devices.register(OWNER, body("b"))
    assert set(devices.get_many(["a", "b"])) == {"a", "b"}
    assert set(devices.get_many(["a", "b"])) == {"a", "b"} and store.reads == [["a", "b"]]
    clock.now += 59.9
    devices.get_many(["a", "b"])
    assert len(store.reads) == 1
    clock.now += 0.2  # 60 s after the first read: read again
    devices.get_many(["a", "b"])
    assert store.reads[-1] == ["a", "b"] and len(store.reads) == 2


def test_an_absent_device_is_not_kept_so_one_registered_next_is_found_at_once():
    store = CountingStore()
    devices = Devices(store, readings=None, cache_seconds=60, clock=Clock())
    assert devices.get_many(["new"]) == {}
    devices.register(OWNER, body("new"))
    assert set(devices.get_many(["new"])) == {"new"} and store.reads == [["new"], ["new"]]


def test_a_change_made_through_the_process_is_seen_at_once():
    store = CountingStore()
    devices = Devices(store, readings=None, cache_seconds=60, clock=Clock())
    devices.register(OWNER, body("a"))
    assert devices.get_many(["a"])["a"]["town"] == "桂城街道"
    devices.update(OWNER, "a", body("a", town="九江镇"))
    assert devices.get_many(["a"])["a"]["town"] == "九江镇"


def test_without_a_cache_every_lookup_reads_the_registry():
    store = CountingStore()
    devices = Devices(store, readings=None)
    devices.register(OWNER, body("a"))
    devices.get_many(["a"])
    devices.get_many(["a"])
    assert store.reads == [["a"], ["a"]]
