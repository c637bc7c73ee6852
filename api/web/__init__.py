"""Server-rendered pages for people (session login, CSRF-protected forms)."""
