"""The IoT sensing network (物联感知网): devices, readings in (HTTP and files),
the readings pipeline (derive, evaluate, commit exactly once), rollups, the archive."""
