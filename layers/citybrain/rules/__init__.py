"""Alert rules: pure functions from a device and its readings to rule events.

engine.evaluate() is the entry point for the processing function; offline.find_offline()
for the scheduled check; aqi.air_quality() derives the AQI of an air reading."""
