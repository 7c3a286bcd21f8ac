"""Where things are, for tests in any folder: the project root, the test fixtures, the shipped library."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
LIBRARY = ROOT / "definitions" / "library"
