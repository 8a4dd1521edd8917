"""The live operations dashboard (城市运行总览): the overview of the district computed from
what the platform keeps (service), its response models, and the self-contained page that
shows it (page, static/)."""
