"""itilflow activities package."""
