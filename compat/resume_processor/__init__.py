"""Python twins of the Swift worker's built-in test functions, so Python workers can run them too."""
