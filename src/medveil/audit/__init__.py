"""medveil.audit."""
