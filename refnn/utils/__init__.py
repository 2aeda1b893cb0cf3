"""Utilities: parameter packing, gradient checks, data helpers, argument validation, tolerances."""
