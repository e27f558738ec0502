"""Physical units and dimensional analysis: unit strings -> dimension vectors
over (m, s, kg, T, V) (:mod:`.parsing`), and the analysis of formulas and
data with them (:mod:`.analysis`)."""

from .analysis import (EquationDimensions, buckingham_pi, dimension_of_expression, dimensionless_groups,
                       dimensions_for, load_feynman_units)
from .parsing import (BASE_UNITS, DERIVED_UNITS, DIMENSIONLESS, Dimension, as_dimension, format_dimension,
                      parse_units)

__all__ = [
    "BASE_UNITS", "DERIVED_UNITS", "DIMENSIONLESS", "Dimension", "EquationDimensions", "as_dimension",
    "buckingham_pi", "dimension_of_expression", "dimensionless_groups", "dimensions_for",
    "format_dimension", "load_feynman_units", "parse_units",
]
