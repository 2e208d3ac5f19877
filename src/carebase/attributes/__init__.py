"""Attributes: the families folded from a profile's records, and the catalogue of them all."""
