"""The engagement pull, metric snapshots and the reports built from them."""
