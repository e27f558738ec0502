"""Options of a search: the one declaration of every option, the operator
lists, their translation into the engine's options message, and the option
reference shown in README.md.

Layer: above the operator table; imports nothing that reaches Julia.
"""

from .declaration import (GROUPS, LOSSES, MODEL_SELECTIONS, MUTATION_KINDS, OPTIONS, Option, defaults,
                          option, parameter_constraints)
from .engine_message import default_engine_options, engine_options, seed_from, units_options, validate_params
from .operator_spec import OperatorSpec, build_operator_spec, parse_operator_entry

__all__ = [
    "GROUPS", "LOSSES", "MODEL_SELECTIONS", "MUTATION_KINDS", "OPTIONS", "Option", "OperatorSpec",
    "build_operator_spec", "default_engine_options", "defaults", "engine_options", "option", "parameter_constraints",
    "parse_operator_entry", "seed_from", "units_options", "validate_params",
]
