"""Segments: condition trees over attributes and events, compiled to SQL; event search."""
