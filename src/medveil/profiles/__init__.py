"""medveil.profiles."""
