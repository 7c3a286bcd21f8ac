"""itilflow workflows package."""
