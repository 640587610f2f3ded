"""medveil.gateway."""
