"""itilflow core package."""
