import json

from tests.conftest import ADMIN_KEY


def test_health(api):
    assert api.http.get("/v1/health").json_body == {"status": "ok"}


def test_flow(api):
    r = api.http.post(
        "/v1/departments",
        headers={"X-Api-Key": ADMIN_KEY, "Content-Type": "application/json"},
        body=json.dumps({"id": "environment", "name": "区生态环境局"}),
    )
    assert r.status_code == 201, r.body
    key = r.json_body["api_key"]
    r = api.http.post(
        "/v1/devices",
        headers={"X-Api-Key": key, "Content-Type": "application/json"},
        body=json.dumps(
            {
                "id": "aq-1",
                "type": "air_quality",
                "domain": "environment",
                "town": "桂城街道",
                "location": {"lat": 23.03, "lon": 113.15},
            }
        ),
    )
    assert r.status_code == 201, r.body
    r = api.http.post(
        "/v1/readings",
        headers={"X-Api-Key": key, "Content-Type": "application/json"},
        body=json.dumps(
            {
                "readings": [
                    {"device_id": "aq-1", "observed_at": "2026-11-27T08:00:00+08:00", "values": {"pm25": 35.0}},
                    {"device_id": "aq-1", "observed_at": "2026-11-27T08:00:00+08:00", "values": {"pm25": -3}},
                ]
            }
        ),
    )
    assert r.status_code == 202, r.body
    print(r.json_body)
