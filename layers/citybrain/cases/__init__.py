"""Cases (案件) dispatched between departments: urban-management problems and big-safety
incidents handled in the seven steps of digital city management."""
