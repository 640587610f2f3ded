"""medveil.deid."""
