"""The model layer: kernels as numpy formulas of named inputs, the derived inputs, packed points, metrics.

Nothing here compiles, stores or schedules: every other layer builds on these definitions.
"""
