"""The domain services wired to their AWS-backed stores, built on first use."""

from __future__ import annotations

import functools


@functools.cache
def departments():
    from citybrain.departments import Departments
    from citybrain.storage.departments import DynamoDepartmentStore

    return Departments(DynamoDepartmentStore())


@functools.cache
def devices():
    from citybrain.devices import Devices
    from citybrain.storage.devices import DynamoDeviceStore

    return Devices(DynamoDeviceStore())


@functools.cache
def reading_processor():
    from citybrain.processing import ReadingProcessor
    from citybrain.storage.archive import archive_readings
    from citybrain.storage.readings import ReadingWriter
    from citybrain.storage.rejections import RejectionStore

    return ReadingProcessor(
        ReadingWriter(on_events=_apply_alert_events), RejectionStore(), archive_readings, devices().store.get_many
    )


def _apply_alert_events(device, events) -> None:
    alert_service().apply(device, events)


@functools.cache
def exchange():
    from citybrain.exchange.service import build

    return build()


@functools.cache
def alert_service():
    from citybrain.alerting import AlertService
    from citybrain.storage.alerts import AlertStore
    from citybrain.storage.notifications import SnsPublisher
    from citybrain.storage.offline import DeviceSweep

    return AlertService(AlertStore(), SnsPublisher(), DeviceSweep())


def reset() -> None:
    for factory in (departments, devices, reading_processor, exchange, alert_service):
        factory.cache_clear()
