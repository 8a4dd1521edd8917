"""Alert rules: pure functions from a device and its readings to rule events.

engine.evaluate() is the entry point for the readings pipeline; offline.find_offline()
for the scheduled check. The AQI a rule judges is derived in citybrain.sensing.aqi."""
