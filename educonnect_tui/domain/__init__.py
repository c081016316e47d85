"""The domain layer: models, rules, services and documents. Never imports Textual."""
