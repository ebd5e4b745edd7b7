"""What every bounded context shares: hex ids, the time format, lifecycles, in-memory tables."""
