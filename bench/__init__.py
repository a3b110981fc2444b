"""The benchmark harness of issue 10: every figure with its peers, side by side (see BENCHMARKS.md)."""
