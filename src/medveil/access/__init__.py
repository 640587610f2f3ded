"""medveil.access."""
