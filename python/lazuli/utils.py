"""Tree utilities: MLX's ``mlx.utils`` over nested lists, tuples and dicts.

A *tree* is any nesting of ``dict``, ``list`` and ``tuple`` (subclasses included) without
cycles; everything else is a leaf. Paths name leaves with dots: ``"layers.0.weight"``.
"""

from collections import defaultdict
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

__all__ = [
    "tree_map",
    "tree_map_with_path",
    "tree_flatten",
    "tree_unflatten",
    "tree_reduce",
    "tree_merge",
]


def _is_node(x):
    return isinstance(x, (list, tuple, dict))


def tree_map(fn: Callable, tree: Any, *rest: Any, is_leaf: Optional[Callable] = None) -> Any:
    """Applies ``fn`` to the leaves of ``tree`` and returns a tree of the results.

    Every tree in ``rest`` must have at least the structure of ``tree``; its matching leaves
    (or subtrees) are passed to ``fn`` as extra positional arguments. ``is_leaf`` decides
    which nodes are leaves, as in :func:`tree_flatten`.

    .. code-block:: python

        model.update(tree_map(lambda x: x * x, model.parameters()))
    """
    if is_leaf is not None and is_leaf(tree):
        return fn(tree, *rest)
    if isinstance(tree, (list, tuple)):
        kind = type(tree)
        out = [
            tree_map(fn, child, *(r[i] for r in rest), is_leaf=is_leaf)
            for i, child in enumerate(tree)
        ]
        return kind(out) if kind in (list, tuple) else _rebuild(kind, out)
    if isinstance(tree, dict):
        return {
            k: tree_map(fn, child, *(r[k] for r in rest), is_leaf=is_leaf)
            for k, child in tree.items()
        }
    return fn(tree, *rest)


def _rebuild(kind, items):
    # namedtuples take their fields positionally; other sequences take an iterable.
    if hasattr(kind, "_fields"):
        return kind(*items)
    try:
        return kind(items)
    except TypeError:
        return list(items)


def tree_map_with_path(
    fn: Callable,
    tree: Any,
    *rest: Any,
    is_leaf: Optional[Callable] = None,
    path: Optional[str] = None,
) -> Any:
    """Like :func:`tree_map`, but ``fn`` receives the leaf's path first: ``fn(path, leaf, *rest)``.

    .. code-block:: python

        tree_map_with_path(lambda p, _: print(p), {"a": [1, 2]})
        # a.0
        # a.1
    """
    if is_leaf is not None and is_leaf(tree):
        return fn(path, tree, *rest)
    if isinstance(tree, (list, tuple)):
        prefix = f"{path}." if path else ""
        kind = type(tree)
        out = [
            tree_map_with_path(
                fn, child, *(r[i] for r in rest), is_leaf=is_leaf, path=f"{prefix}{i}"
            )
            for i, child in enumerate(tree)
        ]
        return kind(out) if kind in (list, tuple) else _rebuild(kind, out)
    if isinstance(tree, dict):
        prefix = f"{path}." if path else ""
        return {
            k: tree_map_with_path(
                fn, child, *(r[k] for r in rest), is_leaf=is_leaf, path=f"{prefix}{k}"
            )
            for k, child in tree.items()
        }
    return fn(path, tree, *rest)


def tree_flatten(
    tree: Any,
    prefix: str = "",
    is_leaf: Optional[Callable] = None,
    destination: Optional[Union[List[Tuple[str, Any]], Dict[str, Any]]] = None,
) -> Union[List[Tuple[str, Any]], Dict[str, Any]]:
    """Flattens ``tree`` into ``(path, leaf)`` pairs with dotted paths.

    ``prefix`` is prepended to every path (its first character is dropped, as in MLX).
    ``destination``, a list or a dict, receives the pairs (a new list by default) and is
    returned.

    .. code-block:: python

        tree_flatten([[[0]]])               # [("0.0.0", 0)]
        tree_flatten([[[0]]], prefix=".hello")  # [("hello.0.0.0", 0)]
    """
    if destination is None:
        destination = []
    if isinstance(destination, dict):
        add = destination.__setitem__
    elif isinstance(destination, list):
        add = lambda k, v: destination.append((k, v))  # noqa: E731
    else:
        raise ValueError("Destination should be either a list or a dictionary or None")

    stack = [(prefix, tree)]
    # Depth first, in insertion order, without recursion.
    while stack:
        pre, node = stack.pop()
        if (is_leaf is None or not is_leaf(node)) and isinstance(node, (list, tuple)):
            stack.extend(reversed([(f"{pre}.{i}", c) for i, c in enumerate(node)]))
        elif (is_leaf is None or not is_leaf(node)) and isinstance(node, dict):
            stack.extend(reversed([(f"{pre}.{k}", c) for k, c in node.items()]))
        else:
            add(pre[1:], node)
    return destination


def tree_unflatten(tree: Union[List[Tuple[str, Any]], Dict[str, Any]]) -> Any:
    """Rebuilds a tree from its flat form (a list of ``(path, value)`` pairs or a dict).

    Children whose keys are all integers become lists; others become dicts.

    .. code-block:: python

        tree_unflatten([("hello.world", 42)])  # {"hello": {"world": 42}}
    """
    items = list(tree.items()) if isinstance(tree, dict) else list(tree)
    if len(items) == 1 and items[0][0] == "":
        return items[0][1]

    try:
        int(items[0][0].split(".", 1)[0])
        is_list = True
    except (ValueError, IndexError):
        is_list = False

    children = defaultdict(list)
    for key, value in items:
        head, *tail = key.split(".", 1)
        children[head].append((tail[0] if tail else "", value))

    if is_list:
        keys = sorted(children, key=int)
        out = []
        for k in keys:
            while len(out) < int(k):
                out.append({})
            out.append(tree_unflatten(children[k]))
        return out
    return {k: tree_unflatten(v) for k, v in children.items()}


def tree_reduce(fn: Callable, tree: Any, initializer=None, is_leaf: Optional[Callable] = None):
    """Reduces the leaves of ``tree`` with ``fn(accumulator, leaf)``.

    Without ``initializer`` the first leaf starts the accumulation.

    .. code-block:: python

        tree_reduce(lambda acc, x: acc + x.sum(), model.parameters(), 0)
    """
    acc = initializer
    first = initializer is None
    for _, leaf in tree_flatten(tree, is_leaf=is_leaf):
        if first:
            acc, first = leaf, False
        else:
            acc = fn(acc, leaf)
    return acc


def tree_merge(tree_a: Any, tree_b: Any, merge_fn: Optional[Callable] = None) -> Any:
    """Merges two trees into one.

    Where one side is empty (``None``, ``{}``, ``[]``, ``()``) the other is taken. Matching
    lists/tuples merge element-wise and dicts key-wise; two leaves at the same place are
    combined with ``merge_fn(a, b)``, or raise ``ValueError`` when it is not given.
    """

    def empty(t):
        return t is None or (_is_node(t) and len(t) == 0)

    if empty(tree_a):
        return tree_b
    if empty(tree_b):
        return tree_a
    if isinstance(tree_a, (list, tuple)) and isinstance(tree_b, (list, tuple)):
        if type(tree_a) is not type(tree_b):
            raise ValueError("Trees contain elements at the same locations but with different types")
        n = max(len(tree_a), len(tree_b))
        out = [
            tree_merge(
                tree_a[i] if i < len(tree_a) else None,
                tree_b[i] if i < len(tree_b) else None,
                merge_fn,
            )
            for i in range(n)
        ]
        return type(tree_a)(out)
    if isinstance(tree_a, dict) and isinstance(tree_b, dict):
        out = dict(tree_a)
        for k, v in tree_b.items():
            out[k] = tree_merge(tree_a.get(k), v, merge_fn)
        return out
    if _is_node(tree_a) or _is_node(tree_b):
        raise ValueError("Trees contain elements at the same locations but with different types")
    if merge_fn is None:
        raise ValueError(
            "Trees contain leaves at the same locations and no merge function was provided"
        )
    return merge_fn(tree_a, tree_b)
