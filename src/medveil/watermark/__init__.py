"""medveil.watermark."""
