"""The emergency check-in sweeper (filled in by the emergency response part)."""
