"""Refusals built from their parts, which each face says in its own terms.

skvae refuses bad input with one message that says what is wrong and what to
do about it. What to do depends on who asks: the Python API names its
parameters (``handle_unknown='ignore'``, ``likelihood={'year': 'gaussian'}``,
``hidden_layer_sizes=(256, 128)``), the command line its options
(``--likelihood year=gaussian``, ``--hidden-layer-sizes 256,128``) and its
files. A :class:`Refusal` keeps the parts of its message: plain text, and
:class:`Term` s, each of which says what it is (a parameter and its value, a
piece of advice, the data refused). ``str()`` of a refusal is the Python
API's message; a face says the same parts in its own words with
:meth:`Refusal.said`, and where it has no words for a term, the Python
API's stand. So the command line never rewrites a message by matching its
text (which broke silently whenever a message was reworded).
"""

import contextlib

from sklearn.utils._param_validation import InvalidParameterError

__all__ = ["ParameterRefusal", "Refusal", "Term", "TermWarning", "TypeRefusal", "advice", "advice_reworded", "cell",
           "column", "count", "example", "method", "parameter", "parameter_phrase", "row", "rows", "said", "subject",
           "such_cells", "empty_column", "empty_table", "table"]

_NO_VALUE = object()


class Term:
    """A part of a refusal that a face may say in its own words.

    Parameters
    ----------
    kind : str
        What the part is: ``"parameter"``, ``"count"``, ``"advice"``,
        ``"subject"``, ``"column"``, ``"empty_column"``, ``"empty_table"``,
        ``"row"``, ``"rows"``, ``"such_cells"``, ``"example"``, ``"cell"``,
        ``"table"``, ``"method"``.
    python : str
        The Python API's words for it.
    **fields
        What another face needs to say it (a parameter's name and value, an
        advice's key and the column it is about).
    """

    def __init__(self, kind, python, **fields):
        self.kind, self.python, self.fields = kind, python, fields

    def __str__(self):
        return self.python

    def __repr__(self):
        return f"Term({self.kind!r}, {self.python!r}, **{self.fields!r})"


def parameter(name, value=_NO_VALUE):
    """A parameter, with the value the refused call gave it (``hidden_layer_sizes=(256, 128)``) or alone."""
    if value is _NO_VALUE:
        return Term("parameter", name, name=name)
    return Term("parameter", f"{name}={value!r}", name=name, value=value)


def parameter_phrase(name):
    """A parameter in scikit-learn's words (``The 'device' parameter``): a face with options names the option.

    Hostile sweep 28: ``skvae demo --device bogus`` was refused as "The
    'device' parameter must be ...", a Python parameter the command line
    spells ``--device``.
    """
    return Term("parameter", f"The {name!r} parameter", name=name)


def count(name, value, unit):
    """A count a parameter set, with its unit: ``n_samples=10 rows``."""
    return Term("count", f"{name}={value!r} {unit}", name=name, value=value, unit=unit)


def advice(key, python, **fields):
    """A piece of advice, `key` naming which (a face looks its own words up by it)."""
    return Term("advice", python, key=key, **fields)


def subject(python):
    """The data refused, as the Python API says it ("X contains"): a face with a file names the file."""
    return Term("subject", python)


def row(position, lead=""):
    """Where a refused cell is: the row at 0-based `position`, after `lead` (" in row 7"; a file says its line)."""
    return Term("row", f"{lead}row {int(position)}", row=int(position), lead=lead)


def rows(positions, shown=10):
    """Several rows at 0-based `positions`, the first `shown` of them (``rows 0, 3``): a file says their lines.

    Hostile sweep 28: ``skvae score`` warned of "1 row of X (row 0)", the
    first line of data being line 2 of the file.
    """
    positions = [int(position) for position in positions]
    listed = ", ".join(map(str, positions[:shown])) + (", ..." if len(positions) > shown else "")
    return Term("rows", f"{'rows' if len(positions) > 1 else 'row'} {listed}", positions=positions, shown=shown)


def method(name):
    """The method of the Python API that speaks (``score_samples: ``): a command names itself otherwise."""
    return Term("method", f"{name}: ", name=name)


def such_cells(n_cells):
    """How many cells share the refused one's problem: `` (3 such cells)``."""
    return Term("such_cells", f" ({n_cells} such cell{'s' if n_cells > 1 else ''})", count=n_cells)


def example():
    """The words before a value shown as one of several (``for example``)."""
    return Term("example", "for example ")


def cell(column, value):
    """The refused cell's column and value, unsaid: a face with the data can find its row (an unseen category)."""
    return Term("cell", "", column=column, value=value)


def table(python):
    """The data as a whole, as the Python API names it (``X``): a face with a file names the file.

    Hostile sweep 25: ``skvae impute --draws 10**20`` was refused as
    "Returning n_imputations=... copies of X needs ...", naming a parameter
    and an argument the command line has not.
    """
    return Term("table", python)


def column(python):
    """A column of the data refused, as the Python API says it (``column 'a'``): a face with a file names the file.

    Hostile sweep 19: ``fit --likelihood a=bernoulli`` was refused as
    "--likelihood bernoulli requires every value of column 'a' to lie in
    [0, 1]", naming no file, since the refusal has no row to say as a line.
    """
    return Term("column", python, words=python)


def empty_column(python, name):
    """A column with no observed value (`name`), as the Python API says it: a face with a file names the file."""
    return Term("empty_column", python, column=name)


def empty_table(python):
    """A table with no observed value at all, as the Python API says it: a face with a file names the file."""
    return Term("empty_table", python)


class Refusal(ValueError):
    """A ValueError whose message is kept as its parts (text and :class:`Term` s).

    ``str(refusal)`` joins the parts in the Python API's words. A refusal
    re-raised with a new message (``type(error)(f"given: {error}")``) is one
    part of plain text: its terms are then the Python API's, as written.
    """

    def __init__(self, *parts):
        self.parts = tuple(parts)
        super().__init__("".join(str(part) for part in self.parts))

    def said(self, words):
        """The message, each term in `words(term)`'s words (None: the Python API's)."""
        text = []
        for part in self.parts:
            said_so = words(part) if isinstance(part, Term) else None
            text.append(str(part) if said_so is None else said_so)
        return "".join(text)

    def has(self, kind):
        """Whether a term of `kind` is among the parts."""
        return self.term(kind) is not None

    def term(self, kind):
        """The first term of `kind` among the parts, or None."""
        return next((part for part in self.parts if isinstance(part, Term) and part.kind == kind), None)


class TermWarning(UserWarning):
    """A UserWarning whose message is kept as its parts, as a :class:`Refusal`'s.

    Hostile sweep 19: a warning's advice was one text for both faces, so
    ``skvae impute`` warned of an identifier column with "--likelihood
    id=categorical", an option impute has not (following it was refused as
    an unrecognized argument). A face says the warning's terms in its words.
    """

    def __init__(self, *parts):
        self.parts = tuple(parts)
        super().__init__("".join(str(part) for part in self.parts))

    said = Refusal.said
    has = Refusal.has
    term = Refusal.term


class TypeRefusal(Refusal, TypeError):
    """A :class:`Refusal` of a value of the wrong type (a TypeError too, as scikit-learn's checks expect)."""


class ParameterRefusal(Refusal, InvalidParameterError):
    """A :class:`Refusal` of a parameter's value: scikit-learn's InvalidParameterError too, as its checks expect."""


def said(error, words):
    """`error`'s message: a :class:`Refusal`'s in `words`, any other exception's as raised."""
    return error.said(words) if isinstance(error, (Refusal, TermWarning)) else str(error)


@contextlib.contextmanager
def advice_reworded(reworded):
    """Re-raise a :class:`Refusal` holding advice of `reworded`'s key with `reworded` in its place.

    A face whose parameter does more than the shared advice says (the
    detector's and the imputer's ``handle_unknown='ignore'``) gives the
    advice in its own words; the key stays, so another face (the command
    line) still says it in its own.
    """
    key = reworded.fields["key"]

    def is_it(part):
        return isinstance(part, Term) and part.kind == "advice" and part.fields.get("key") == key

    try:
        yield
    except Refusal as refusal:
        if not any(is_it(part) for part in refusal.parts):
            raise
        # The refusal's own class and fields (a NetworkOverflow's rows), whatever its constructor takes.
        said_so = type(refusal).__new__(type(refusal))
        said_so.__dict__.update(refusal.__dict__)
        Refusal.__init__(said_so, *(reworded if is_it(part) else part for part in refusal.parts))
        raise said_so from None
