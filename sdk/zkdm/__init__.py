"""zkdm: client SDK and CLI of the ZK data marketplace."""
