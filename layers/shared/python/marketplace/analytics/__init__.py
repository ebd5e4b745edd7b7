"""Analytics (Flow 7): per-content and per-creator aggregates in hour/day/month buckets, fed by the
usage table's stream and the chain's events, and the creator's dashboard data."""
