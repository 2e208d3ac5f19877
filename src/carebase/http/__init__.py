"""HTTP plumbing shared by every domain: errors, middleware, routing, dependencies."""
