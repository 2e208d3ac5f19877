"""Datasets and their ingestion logs."""
