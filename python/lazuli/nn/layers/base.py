"""``Module``: the base class of every layer, a dict of parameters and sub-modules."""

import textwrap
from typing import Any, Callable, List, Optional, Tuple, Union

import lazuli.core as mx
from lazuli.utils import tree_flatten, tree_unflatten


def _unwrap(model, value_key, value, filter_fn, map_fn, is_leaf_fn):
    if is_leaf_fn(model, value_key, value):
        return map_fn(value)
    if isinstance(value, Module):
        return {
            k: _unwrap(value, k, v, filter_fn, map_fn, is_leaf_fn)
            for k, v in value.items()
            if filter_fn(value, k, v)
        }
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            key = f"{value_key}.{k}"
            out[k] = (
                _unwrap(model, key, v, filter_fn, map_fn, is_leaf_fn)
                if filter_fn(model, key, v)
                else {}
            )
        return out
    if isinstance(value, list):
        out = []
        for i, v in enumerate(value):
            key = f"{value_key}.{i}"
            out.append(
                _unwrap(model, key, v, filter_fn, map_fn, is_leaf_fn)
                if filter_fn(model, key, v)
                else {}
            )
        return out
    raise RuntimeError("Unexpected leaf found while traversing the module")


def _default_leaf(m, k, v):
    return not isinstance(v, (Module, dict, list))


class Module(dict):
    """Base class for building neural networks.

    A ``Module`` is a ``dict``: its arrays (parameters) and sub-modules, possibly nested in
    lists and dicts, are its entries, and are also readable and settable as attributes.
    Members whose name starts with ``_`` are not parameters. Subclasses implement
    ``__call__``.

    .. code-block:: python

        class MLP(nn.Module):
            def __init__(self, d_in, d_out):
                super().__init__()
                self.layers = [nn.Linear(d_in, 32), nn.Linear(32, d_out)]

            def __call__(self, x):
                return self.layers[1](nn.relu(self.layers[0](x)))
    """

    __call__: Callable

    def __init__(self):
        self._no_grad = set()
        self._training = True

    @property
    def training(self):
        """Whether the module is in training mode."""
        return self._training

    @property
    def state(self):
        """The module's own dict of members (the module itself)."""
        return self

    def _extra_repr(self):
        return ""

    def __repr__(self):
        children = tree_flatten(self.children(), is_leaf=self.is_module)
        value = f"{type(self).__name__}({self._extra_repr()}"
        for k, v in children:
            value += "\n" + textwrap.indent(f"({k}): {repr(v)}", prefix="  ")
        if children:
            value += "\n"
        value += ")"
        return value

    def __getattr__(self, key: str):
        if key in self:
            return self[key]
        return super().__getattribute__(key)  # raises Python's usual AttributeError

    def __setattr__(self, key: str, val: Any):
        if isinstance(val, (mx.array, dict, list, tuple)):
            if hasattr(self, key) and key not in self:
                delattr(self, key)
            self[key] = val
        else:
            super().__setattr__(key, val)

    def __delattr__(self, name):
        if name in self:
            del self[name]
        else:
            super().__delattr__(name)

    # Modules compare and hash by identity (a dict would compare contents).
    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    # ---- loading and saving -----------------------------------------------------------

    def load_weights(
        self,
        file_or_weights: Union[str, List[Tuple[str, "mx.array"]]],
        strict: bool = True,
    ) -> "Module":
        """Updates the parameters from a ``.npz``/``.safetensors`` file or a list of
        ``(name, array)`` pairs.

        With ``strict`` (the default) the names and shapes must match the model's exactly:
        otherwise ``ValueError`` names the offending key (and both shapes), and the model is
        left unchanged. Without ``strict`` only the given parameters are updated.
        """
        weights = file_or_weights
        if isinstance(weights, str) or hasattr(weights, "__fspath__"):
            loaded = mx.load(str(weights))
            if isinstance(loaded, tuple):
                loaded = loaded[0]
            if not isinstance(loaded, dict):
                raise ValueError(f"Expected a file of named arrays, got {weights}")
            weights = list(loaded.items())
        else:
            weights = list(weights.items()) if isinstance(weights, dict) else list(weights)

        if strict:
            new_weights = dict(weights)
            curr_weights = dict(tree_flatten(self.parameters()))
            extras = new_weights.keys() - curr_weights.keys()
            if extras:
                names = ",\n".join(sorted(extras))
                raise ValueError(f"Received {len(extras)} parameters not in model: \n{names}.")
            missing = curr_weights.keys() - new_weights.keys()
            if missing:
                names = ",\n".join(sorted(missing))
                raise ValueError(f"Missing {len(missing)} parameters: \n{names}.")
            for k, v in curr_weights.items():
                v_new = new_weights[k]
                if not isinstance(v_new, mx.array):
                    raise ValueError(
                        f"Expected mx.array but received {type(v_new)} for parameter {k}"
                    )
                if tuple(v_new.shape) != tuple(v.shape):
                    raise ValueError(
                        f"Expected shape {tuple(v.shape)} but received shape "
                        f"{tuple(v_new.shape)} for parameter {k}"
                    )

        if len(weights) != 0:
            self.update(tree_unflatten(weights), strict=False)
        return self

    def save_weights(self, file: str):
        """Saves the parameters to ``file``: ``.npz`` or ``.safetensors`` by its extension."""
        file = str(file)
        params = dict(tree_flatten(self.parameters()))
        if file.endswith(".npz"):
            mx.savez(file, **params)
        elif file.endswith(".safetensors"):
            mx.save_safetensors(file, params)
        else:
            raise ValueError(
                f"Unsupported file extension for {file}. Use '.npz' or '.safetensors'."
            )

    # ---- filters ----------------------------------------------------------------------

    @staticmethod
    def is_module(value):
        return isinstance(value, Module)

    @staticmethod
    def valid_child_filter(module, key, value):
        return isinstance(value, (dict, list))

    @staticmethod
    def valid_parameter_filter(module, key, value):
        return isinstance(value, (dict, list, mx.array)) and not key.startswith("_")

    @staticmethod
    def trainable_parameter_filter(module, key, value):
        return Module.valid_parameter_filter(module, key, value) and key not in module._no_grad

    def filter_and_map(
        self,
        filter_fn: Callable[["Module", str, Any], bool],
        map_fn: Optional[Callable] = None,
        is_leaf_fn: Optional[Callable[["Module", str, Any], bool]] = None,
    ):
        """Walks the module's members, keeping those ``filter_fn(module, key, value)``
        accepts, and maps the leaves (as decided by ``is_leaf_fn``) with ``map_fn``."""
        map_fn = map_fn or (lambda x: x)
        is_leaf_fn = is_leaf_fn or _default_leaf
        return {
            k: _unwrap(self, k, v, filter_fn, map_fn, is_leaf_fn)
            for k, v in self.items()
            if filter_fn(self, k, v)
        }

    def parameters(self):
        """All parameters (arrays), as a tree of dicts and lists."""
        return self.filter_and_map(self.valid_parameter_filter)

    def trainable_parameters(self):
        """The parameters that are not frozen."""
        return self.filter_and_map(self.trainable_parameter_filter)

    def children(self):
        """The direct sub-modules of this module."""
        return self.filter_and_map(
            self.valid_child_filter, is_leaf_fn=lambda m, k, v: isinstance(v, Module)
        )

    def leaf_modules(self):
        """The sub-modules that have no sub-modules of their own."""

        def is_leaf_module(m, k, v):
            return (
                isinstance(v, Module)
                and len(tree_flatten(v.children(), is_leaf=self.is_module)) == 0
            )

        return self.filter_and_map(self.valid_child_filter, is_leaf_fn=is_leaf_module)

    # ---- updates ----------------------------------------------------------------------

    def update(self, parameters: dict, strict: bool = True) -> "Module":
        """Replaces the parameters with those of ``parameters`` (a tree as returned by
        :meth:`parameters`, possibly partial).

        With ``strict`` every key must name an existing parameter holding the same kind of
        value; otherwise ``ValueError`` is raised."""

        def invalid(value):
            return ValueError(f"Received invalid type: {type(value).__name__}.")

        def set_one(dst, key, new):
            cur = dst[key]
            if isinstance(cur, Module):
                cur.update(new, strict=strict)
            elif isinstance(cur, (dict, list, tuple)):
                apply(cur, new)
            elif isinstance(new, mx.array):
                dst[key] = new
            elif isinstance(new, dict) and not new:
                pass  # an empty subtree leaves the parameter alone
            elif strict:
                raise invalid(new)
            else:
                dst[key] = new

        def apply(dst, params):
            if isinstance(dst, dict):
                if not isinstance(params, dict):
                    if strict:
                        raise invalid(params)
                    return
                for key, new in params.items():
                    if key in dst:
                        set_one(dst, key, new)
                    elif strict:
                        raise ValueError(f'Module does not have parameter named "{key}".')
            elif isinstance(dst, list):
                if not isinstance(params, list):
                    if strict:
                        raise invalid(params)
                    return
                if strict and len(params) > len(dst):
                    raise ValueError("Received too many list elements for module update.")
                for i in range(min(len(params), len(dst))):
                    set_one(dst, i, params[i])
            elif strict:
                raise invalid(params)

        apply(self, parameters)
        return self

    def apply(
        self,
        map_fn: Callable[["mx.array"], "mx.array"],
        filter_fn: Optional[Callable[["Module", str, Any], bool]] = None,
    ) -> "Module":
        """Maps every parameter (those ``filter_fn`` keeps) with ``map_fn`` in place."""
        filter_fn = filter_fn or Module.valid_parameter_filter
        self.update(self.filter_and_map(filter_fn, map_fn), strict=False)
        return self

    def update_modules(self, modules: dict, strict: bool = True) -> "Module":
        """Replaces sub-modules with those of ``modules`` (a tree like :meth:`children`)."""

        def apply(dst, src):
            if isinstance(src, dict):
                items = src.items()
            elif isinstance(src, list):
                items = enumerate(src)
            else:
                if strict:
                    raise ValueError(f"Received invalid type: {type(src).__name__}.")
                return
            for k, new in items:
                if isinstance(dst, dict):
                    present = k in dst
                else:
                    present = isinstance(k, int) and k < len(dst)
                if not present:
                    if strict:
                        raise ValueError(f'Module does not have sub-module named "{k}".')
                    continue
                cur = dst[k]
                if isinstance(new, Module):
                    if strict and not isinstance(cur, Module):
                        raise ValueError(f"Received invalid type: {type(new).__name__}.")
                    dst[k] = new
                elif isinstance(cur, Module) or isinstance(cur, (dict, list)):
                    if isinstance(new, (dict, list)):
                        apply(cur, new)
                    elif strict:
                        raise ValueError(f"Received invalid type: {type(new).__name__}.")
                elif strict and not (isinstance(new, dict) and not new):
                    raise ValueError(f"Received invalid type: {type(new).__name__}.")

        apply(self, modules)
        return self

    def apply_to_modules(self, apply_fn: Callable[[str, "Module"], Any]) -> "Module":
        """Calls ``apply_fn(name, module)`` on this module and every sub-module
        (the module itself has the name ``""``)."""
        stack = [("", self)]
        while stack:
            prefix, mod = stack.pop()
            apply_fn(prefix, mod)
            prefix = prefix + "." if prefix else ""
            stack.extend(tree_flatten(mod.children(), prefix=prefix, is_leaf=self.is_module))
        return self

    def modules(self):
        """Every module in the tree, this one included."""
        out = []
        self.apply_to_modules(lambda k, m: out.append(m))
        return out

    def named_modules(self):
        """``(name, module)`` for every module in the tree, this one included."""
        out = []
        self.apply_to_modules(lambda k, m: out.append((k, m)))
        return out

    # ---- freezing ---------------------------------------------------------------------

    def _validate_keys(self, keys, strict):
        keys = keys if isinstance(keys, list) else [keys]
        if strict:
            for k in keys:
                if k not in self:
                    raise KeyError(f"Module doesn't contain member {k}.")
        return keys

    def _own_parameter_names(self):
        return [
            k
            for k, _ in tree_flatten(
                self.filter_and_map(
                    lambda m, k, v: not isinstance(v, Module)
                    and m.valid_parameter_filter(m, k, v)
                )
            )
        ]

    def freeze(
        self,
        *,
        recurse: bool = True,
        keys: Optional[Union[str, List[str]]] = None,
        strict: bool = False,
    ) -> "Module":
        """Freezes parameters (``keys``, or all) so that they are not trainable.

        With ``recurse`` sub-modules are frozen too. With ``strict`` every key must exist.
        """

        def freeze_one(_, m):
            local = keys
            if local is None:
                local = m._own_parameter_names()
            local = m._validate_keys(local, strict)
            m._no_grad.update(local)

        if recurse:
            self.apply_to_modules(freeze_one)
        else:
            freeze_one("", self)
        return self

    def unfreeze(
        self,
        *,
        recurse: bool = True,
        keys: Optional[Union[str, List[str]]] = None,
        strict: bool = False,
    ) -> "Module":
        """Makes parameters (``keys``, or all) trainable again."""

        def unfreeze_one(_, m):
            if keys is None:
                m._no_grad.clear()
            else:
                m._no_grad.difference_update(m._validate_keys(keys, strict))

        if recurse:
            self.apply_to_modules(unfreeze_one)
        else:
            unfreeze_one("", self)
        return self

    # ---- modes and dtypes -------------------------------------------------------------

    def train(self, mode: bool = True) -> "Module":
        """Sets training mode (``mode``) on the module and every sub-module."""

        def set_mode(_, m):
            m._training = mode

        self.apply_to_modules(set_mode)
        return self

    def eval(self) -> "Module":
        """Sets evaluation mode: ``train(False)``."""
        return self.train(False)

    def set_dtype(
        self,
        dtype: "mx.Dtype",
        predicate: Optional[Callable[["mx.Dtype"], bool]] = lambda x: mx.issubdtype(
            x, mx.floating
        ),
    ):
        """Casts the parameters whose dtype ``predicate`` accepts (floating ones by default)
        to ``dtype``."""
        if predicate is None:
            predicate = lambda _: True  # noqa: E731
        self.apply(lambda x: x.astype(dtype) if predicate(x.dtype) else x)
