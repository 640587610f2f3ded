"""medveil.vault."""
