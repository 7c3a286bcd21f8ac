"""itilflow api package."""
