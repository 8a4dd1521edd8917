"""The big-safety platform (大安全平台): the risk registry, and later the incidents fused
from alerts across domains and the cases dispatched between departments."""
