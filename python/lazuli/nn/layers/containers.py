"""Sequential: calls its layers one after the other."""

from lazuli.nn.layers.base import Module


class Sequential(Module):
    """Calls each of ``modules`` (modules or plain callables) in order on the output of the
    previous one."""

    def __init__(self, *modules):
        super().__init__()
        self.layers = list(modules)

    def __call__(self, x):
        for m in self.layers:
            x = m(x)
        return x
