"""The demo district a newcomer sees after `make up`: departments with keys,
devices in every town, and a live feed whose readings show up in the API."""

from __future__ import annotations

import json

from citybrain.core.vocabulary import Town
from citybrain.sensing.vocabulary import DeviceType


def test_the_demo_feed_shows_up_within_a_minute(demo):
    def readings():
        response = demo.get("/v1/devices/gc-traffic-01/readings")
        return response.status_code == 200 and response.json()["items"]

    items = demo.eventually(readings, timeout=75, interval=1, what="demo readings of gc-traffic-01")
    assert {"intensity", "occupancy", "averageVehicleSpeed", "congested"} <= set(items[-1]["values"])
    device = demo.get("/v1/devices/gc-traffic-01").json()
    # The device's latest reading is its newest stored one (the listing's first page, oldest
    # first, ends earlier once the quickened feed has stored more than a page).
    newest = demo.get("/v1/devices/gc-traffic-01/readings", **{"from": str(device["latest"]["t"])}).json()["items"]
    assert device["status"] == "online" and device["latest"]["t"] >= items[-1]["t"]
    assert newest and newest[0]["t"] == device["latest"]["t"] and newest[0]["values"] == device["latest"]["values"]


def test_the_demo_keys_work_and_every_town_has_every_device_type(demo):
    keys = json.loads((demo.local_dir / "demo-keys.json").read_text())
    assert set(keys["departments"]) == {
        "transport",
        "environment",
        "urban",
        "housing",
        "health",
        "safety",
        "civil-affairs",
        "market",
    }  # the last two publish datasets only
    key = keys["departments"]["environment"]["api_key"]
    for town in Town:
        response = demo.get("/v1/devices", key, town=town.value, limit="100")
        assert response.status_code == 200, response.text
        assert {d["type"] for d in response.json()["items"]} == {t.value for t in DeviceType}, town
