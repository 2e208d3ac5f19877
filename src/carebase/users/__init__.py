"""Users (agents and managers) and groups: the people behind the console."""
