"""The formula layer: the only code that touches formulaic."""

from .design import Design, DesignSpec, build_design
from .parse import ParsedFormula, parse_formula

__all__ = ["Design", "DesignSpec", "ParsedFormula", "build_design", "parse_formula"]
