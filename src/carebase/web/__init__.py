"""The console: server-rendered pages for agents and managers, and the API docs pages."""
