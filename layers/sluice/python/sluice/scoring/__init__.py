"""Batch scoring: a file dropped under ``score/<model>/`` scored row by row by a registered model version."""
