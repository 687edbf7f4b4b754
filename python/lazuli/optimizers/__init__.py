"""``lazuli.optimizers``: MLX's ``mlx.optimizers`` (optimizers and learning-rate schedules)."""

from lazuli.optimizers.optimizers import *  # noqa: F401,F403
from lazuli.optimizers.schedulers import *  # noqa: F401,F403
