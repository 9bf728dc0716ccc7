"""A regression forest held as plain arrays: scikit-learn's extremely randomized trees, fitted and then read off.

The imputer's tree refinement (:mod:`skvae._refinement`, TREE_SHARE) keeps
one small forest per column. It is fitted with scikit-learn's
:class:`~sklearn.ensemble.ExtraTreesRegressor` (why hand-write a tree
learner) and kept as five arrays (each node's split feature, threshold, two
children and value) plus each tree's root: what a model file holds and
checks as the imputer's other states (no pickle of scikit-learn's objects,
whose layout changes between its versions), and what :func:`predict` walks.

The walk reads a row as scikit-learn's trees do (the design cast to
float32, compared with float64 thresholds, ``<=`` to the left), so a
forest predicts what it was fitted to predict, and each row alone: a row's
prediction is the same bits whatever rows share its call (the trees' values
summed one tree after another, in tree order).

A forest predicts one number per row (a numeric column's refinement) or,
fitted to several outputs, a vector per row: the labels' forests are
fitted to a label's one-hot codes, where the squared error a split lowers
is the Gini impurity a classification forest's split lowers, and a leaf's
value is the share of each level among its rows (class probabilities).
"""

import numpy as np

#: Keys of a forest's state (:func:`fit`): per node, the split's design
#: column (-1 at a leaf), its threshold, the two children (-1 at a leaf),
#: the node's value (a row of values for several outputs); and the index of each tree's root.
KEYS = ("feature", "threshold", "left", "right", "value", "roots")


def fit(design, target, *, n_trees, max_leaves, min_leaf, seed, max_features=1.0):
    """The forest (a dict of :data:`KEYS`) of `target` on the rows of `design`, or None where it cannot be fitted.

    `target` is one value per row or, 2-D, one row of outputs per row (the
    forest's ``value`` then holds a row per node).

    None where the design does not fit in float32 (scikit-learn's trees read
    it so, and refuse infinity) or the forest read off is not one a file may
    hold (:func:`check_state`: children after their parent, as the walk needs).
    """
    from sklearn.ensemble import ExtraTreesRegressor

    with np.errstate(over="ignore"):
        features = design.astype(np.float32)
    if not np.isfinite(features).all() or not np.isfinite(target).all():
        return None
    try:
        model = ExtraTreesRegressor(n_estimators=n_trees, max_leaf_nodes=max_leaves, min_samples_leaf=min_leaf,
                                    max_features=max_features, random_state=seed, n_jobs=1).fit(features, target)
    except ValueError:  # a column whose forest cannot be fitted keeps its fills, as one whose regression cannot
        return None
    parts = {key: [] for key in KEYS}
    start = 0
    for estimator in model.estimators_:
        tree = estimator.tree_
        internal = tree.children_left >= 0
        parts["feature"].append(np.where(internal, tree.feature, -1))
        parts["threshold"].append(np.where(internal, tree.threshold, 0.0))
        parts["left"].append(np.where(internal, tree.children_left + start, -1))
        parts["right"].append(np.where(internal, tree.children_right + start, -1))
        parts["value"].append(tree.value[:, 0, 0] if target.ndim == 1 else tree.value[:, :, 0])
        parts["roots"].append([start])
        start += tree.node_count
    forest = {key: np.concatenate(parts[key]).astype(np.float64 if key in ("threshold", "value") else np.int64)
              for key in KEYS}
    outputs = None if target.ndim == 1 else target.shape[1]
    return forest if check_state(forest, design.shape[1], outputs) is None else None


def predict(forest, design):
    """The forest's mean prediction for each row of `design` (float64; a row of outputs per row for a forest of
    several), each row's bits independent of the others."""
    with np.errstate(over="ignore"):  # beyond float32: infinity, which goes right at every split, as in scikit-learn
        features = design.astype(np.float32)
    feature, threshold, left, right = (forest[key] for key in ("feature", "threshold", "left", "right"))
    rows = np.arange(len(design))
    total = np.zeros((len(design), *forest["value"].shape[1:]))
    for root in forest["roots"]:
        node = np.full(len(design), root)
        # Children lie after their parent (checked in fit and in a file's state): a walk ends within
        # the forest's nodes.
        for _ in range(len(feature)):
            inner = feature[node] >= 0
            if not inner.any():
                break
            at = node[inner]
            go_left = features[rows[inner], feature[at]] <= threshold[at]
            node[inner] = np.where(go_left, left[at], right[at])
        total += forest["value"][node]
    return total / len(forest["roots"])


def check_state(forest, width, outputs=None):
    """The problem with a forest state read from a file (arrays, shapes, a walk that ends), or None.

    `width` is the design's width its split features index; `outputs` the
    number of outputs of a forest of several (None: one value per node).
    """
    if not isinstance(forest, dict) or set(forest) != set(KEYS):
        return "a dict with the keys " + ", ".join(repr(key) for key in KEYS)
    for key in KEYS:
        array = forest[key]
        dtype = np.float64 if key in ("threshold", "value") else np.int64
        ndim = 2 if key == "value" and outputs is not None else 1
        if not isinstance(array, np.ndarray) or array.dtype != dtype or array.ndim != ndim:
            return f"{key!r} a {ndim}-D {np.dtype(dtype).name} array"
    if outputs is not None and forest["value"].shape[1] != outputs:
        return f"'value' of {outputs} outputs a node"
    n_nodes = len(forest["feature"])
    if n_nodes == 0 or any(len(forest[key]) != n_nodes for key in KEYS[:5]):
        return "node arrays of one length, at least one node"
    roots = forest["roots"]
    if len(roots) == 0 or roots[0] != 0 or np.any(np.diff(roots) <= 0) or roots[-1] >= n_nodes:
        return "'roots' strictly increasing node indices from 0"
    if not (np.isfinite(forest["threshold"]).all() and np.isfinite(forest["value"]).all()):
        return "finite thresholds and values"
    inner = forest["feature"] >= 0
    index = np.arange(n_nodes)
    leaves_ok = np.all(forest["left"][~inner] == -1) and np.all(forest["right"][~inner] == -1)
    children_ok = all(np.all((child[inner] > index[inner]) & (child[inner] < n_nodes))
                      for child in (forest["left"], forest["right"]))
    if not (leaves_ok and children_ok and np.all(forest["feature"] < width)
            and np.all(forest["feature"][~inner] == -1)):
        return f"children after their parent, leaves without children, and split features below {width}"
    return None
