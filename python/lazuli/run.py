"""Runs a program written for MLX on Lazuli, unchanged::

    python3 -m lazuli.run script.py [args ...]
    python3 -m lazuli.run -m package.module [args ...]

``mlx``, ``mlx.core``, ``mlx.nn``, ``mlx.optimizers``, ``mlx.utils`` and their submodules
(``mlx.core.random``, ``mlx.nn.losses`` ...) resolve to Lazuli's modules: the very same
module objects, so ``mlx.core.array is lazuli.core.array``. Nothing named ``mlx`` is
installed; the aliases live in this process only. The script runs as ``__main__`` with
``sys.argv`` and ``sys.path[0]`` set as ``python3 script.py`` would set them.
"""

import importlib
import importlib.abc
import importlib.machinery
import runpy
import sys

_ALIAS = "mlx"
_TARGET = "lazuli"
_EAGER = ("lazuli.core", "lazuli.nn", "lazuli.optimizers", "lazuli.utils")


def _target_name(fullname):
    return _TARGET + fullname[len(_ALIAS):]


def _alias_loaded():
    """Aliases every loaded ``lazuli[.x]`` module (the extension registers its submodules
    such as ``lazuli.core.random`` in ``sys.modules``) as ``mlx[.x]``."""
    for name, module in list(sys.modules.items()):
        if name == _TARGET or name.startswith(_TARGET + "."):
            sys.modules.setdefault(_ALIAS + name[len(_TARGET):], module)


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, module):
        self._module = module

    def create_module(self, spec):
        return self._module

    def exec_module(self, module):
        _alias_loaded()


class MlxAliasFinder(importlib.abc.MetaPathFinder):
    """Resolves ``mlx`` and ``mlx.*`` imports to the matching ``lazuli`` modules."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _ALIAS and not fullname.startswith(_ALIAS + "."):
            return None
        try:
            module = importlib.import_module(_target_name(fullname))
        except ImportError:
            return None
        spec = importlib.machinery.ModuleSpec(
            fullname,
            _AliasLoader(module),
            is_package=hasattr(module, "__path__"),
        )
        return spec


def install():
    """Makes ``import mlx...`` resolve to Lazuli in this process (idempotent)."""
    if not any(isinstance(f, MlxAliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, MlxAliasFinder())
    for name in _EAGER:
        importlib.import_module(name)
    _alias_loaded()


_USAGE = "usage: python3 -m lazuli.run script.py [args ...] | -m module [args ...]"


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_USAGE, file=sys.stderr if not argv else sys.stdout)
        return 0 if argv else 2
    install()
    if argv[0] == "-m":
        if len(argv) < 2:
            print(_USAGE, file=sys.stderr)
            return 2
        sys.argv = [argv[1]] + argv[2:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return 0
    import os

    script = argv[0]
    if not os.path.exists(script):
        print(f"lazuli.run: can't open file {script!r}: No such file or directory", file=sys.stderr)
        return 2
    sys.argv = argv
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
