"""The formula layer: the only code that touches formulaic."""

from .design import CompleteRows, Design, DesignSpec, build_design, complete_rows
from .parse import ParsedFormula, parse_formula

__all__ = ["CompleteRows", "Design", "DesignSpec", "ParsedFormula", "build_design", "complete_rows",
           "parse_formula"]
