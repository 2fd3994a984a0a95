"""bench/ holds benchmarks that print figures; they are never collected as tests."""

collect_ignore_glob = ["*"]
