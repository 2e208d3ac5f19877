"""Record schemas, datasets, batch ingestion, ingestion logs and bulk file import."""
