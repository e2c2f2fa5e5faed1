"""Domain-free helpers: model base, repository base, time, crypto, pagination."""
