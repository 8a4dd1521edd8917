"""Reports of the city's operating state (运行监测): figures per domain and town for a
local hour, day or range, computed from the hourly rollups and indexes, never from raw
readings."""
