"""Lazuli: lazy arrays, function transformations and neural networks with MLX's Python API,
computed on the CPU by liblazuli. `import lazuli.core as mx` is the counterpart of
`import mlx.core as mx`."""
