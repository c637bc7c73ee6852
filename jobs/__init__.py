"""Scheduled jobs: plain functions of ``now`` run by the ``sponsor-match worker`` process."""
