"""The compute layer: what makes a model formula fast — the tracer and its replay, SIMD math, compiled loops,
exact sums and the quadrature of nuisance parameters — derived from the model's formulas."""
