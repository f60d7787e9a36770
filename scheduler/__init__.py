"""Calendar planning, due selection, the publish run and the long-lived scheduler service."""
