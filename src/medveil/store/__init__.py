"""medveil.store."""
