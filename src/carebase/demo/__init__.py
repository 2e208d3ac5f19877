"""The demo brand: generated records loaded through the public ingestion path."""
