"""The public status page: component states derived from the system, incidents from operators."""
