"""itilflow definitions package."""
