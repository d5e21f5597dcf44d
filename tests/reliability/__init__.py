"""Bad-input catalogue: each case asserts a clear error or a recorded warning."""
