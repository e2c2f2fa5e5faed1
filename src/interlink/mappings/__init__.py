"""Field maps, status maps and sync rules: configuration, validation against live schemas, evaluation."""
