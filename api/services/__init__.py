"""Services: plain functions that own the transaction; shared by handlers, jobs and CLI."""
