"""medveil.crypto."""
