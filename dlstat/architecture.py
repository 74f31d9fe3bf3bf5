"""Layer specifications: small, TensorFlow-free objects describing a network's hidden part.

``hidden=(32, 16)`` with ``activation``, ``dropout`` and ``batchnorm`` is shorthand for a list
such as ``[dense(32), batchnorm(), activation("relu"), dropout(0.2), dense(16), ...]``.  The
output layer is not part of the list: the family decides it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Union

from .errors import OptionError, OptionTypeError

ACTIVATIONS = ("relu", "sigmoid", "tanh", "elu", "selu", "gelu", "swish", "softplus", "linear")


@dataclass(frozen=True)
class Dense:
    """A fully connected layer of ``units`` units followed by ``activation``."""

    units: int
    activation: str = "relu"
    kind: str = "dense"


@dataclass(frozen=True)
class Dropout:
    """Randomly zero a fraction ``rate`` of the previous layer's units at each training step."""

    rate: float
    kind: str = "dropout"


@dataclass(frozen=True)
class BatchNorm:
    """Normalise the previous layer's units over each mini-batch (moving averages at predict)."""

    momentum: float = 0.9
    epsilon: float = 1e-3
    kind: str = "batchnorm"


@dataclass(frozen=True)
class Activation:
    """An activation on its own (after a batch-normalised linear layer)."""

    name: str
    kind: str = "activation"


@dataclass(frozen=True)
class Reshape:
    """Read each row's values as an array of ``shape`` (C order), e.g. pixels as an image.

    With ``joined > 0`` the last ``joined`` values of a row are tabular inputs (age, sex …):
    they bypass the array part and are joined to it after the layer that makes it flat.
    """

    shape: tuple[int, ...]
    kind: str = "reshape"
    joined: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(self.shape))  # JSON gives lists


@dataclass(frozen=True)
class Conv:
    """A 1-D (``kind="conv1d"``, input ``[T, channels]``) or 2-D (``"conv2d"``, input
    ``[h, w, channels]``) convolution of ``filters`` filters followed by ``activation``."""

    filters: int
    kernel_size: tuple[int, ...]
    strides: tuple[int, ...]
    padding: str
    dilation: tuple[int, ...]
    activation: str = "relu"
    kind: str = "conv2d"

    def __post_init__(self) -> None:
        for name in ("kernel_size", "strides", "dilation"):
            object.__setattr__(self, name, tuple(getattr(self, name)))


@dataclass(frozen=True)
class Pool:
    """Max (``kind="maxpool"``) or average (``"avgpool"``) pooling over windows of
    ``pool_size``; 1-D or 2-D by the rank of its input (one size applies to every axis)."""

    pool_size: tuple[int, ...]
    strides: tuple[int, ...]
    padding: str = "valid"
    kind: str = "maxpool"

    def __post_init__(self) -> None:
        for name in ("pool_size", "strides"):
            object.__setattr__(self, name, tuple(getattr(self, name)))


@dataclass(frozen=True)
class Flatten:
    """Join each row's array into one vector (C order), e.g. before a dense layer."""

    kind: str = "flatten"


@dataclass(frozen=True)
class GlobalAvgPool:
    """The mean of each channel over all positions (1-D or 2-D input)."""

    kind: str = "global_avgpool"


@dataclass(frozen=True)
class Recurrent:
    """A simple (``kind="rnn"``), LSTM (``"lstm"``) or GRU (``"gru"``) layer of ``units`` units
    over a sequence ``[T, p]``: the last state ``[units]``, or every state ``[T, units]`` with
    ``return_sequences``.  Activations default to Keras's (tanh, and sigmoid for the gates)."""

    units: int
    activation: str = "tanh"
    recurrent_activation: str = "sigmoid"
    return_sequences: bool = False
    kind: str = "lstm"


@dataclass(frozen=True)
class Bidirectional:
    """A recurrent ``layer`` read forwards and backwards, the two outputs joined by ``merge``
    (``"concat"``, ``"sum"``, ``"mul"`` or ``"ave"``, as Keras's ``merge_mode``)."""

    layer: Recurrent
    merge: str = "concat"
    kind: str = "bidirectional"

    def __post_init__(self) -> None:
        if isinstance(self.layer, dict):  # from a model file
            object.__setattr__(self, "layer", Recurrent(**self.layer))


@dataclass(frozen=True)
class Embedding:
    """A vector of ``output_dim`` values for each integer code ``0 .. input_dim - 1`` of a
    sequence ``[T]`` (DNA bases, amino acids, words): the input is read as codes, not values."""

    input_dim: int
    output_dim: int
    kind: str = "embedding"


# For type checkers; the spec classes at run time are LAYER_TYPES, read from SPEC_TABLE (a test
# holds the two equal).
Layer = Union[Dense, Dropout, BatchNorm, Activation, Reshape, Conv, Pool, Flatten,  # noqa: UP007
              GlobalAvgPool, Recurrent, Bidirectional, Embedding]
PADDINGS = ("valid", "same")
MERGES = ("concat", "sum", "mul", "ave")
# Bounds on what a layer spec may ask for (a spec may come from a web form or a model file):
# a recurrent layer's work grows with units squared, an embedding's memory with its codes.
MAX_RECURRENT_UNITS = 4_096
MAX_EMBEDDING_CODES = 1_000_000
MAX_EMBEDDING_DIM = 4_096


def dense(units: int, activation: str = "relu") -> Dense:
    """A fully connected (dense) layer spec: ``units`` units followed by ``activation``.

    Parameters
    ----------
    units : int
        Number of units (1 to 1,000,000).
    activation : str, default 'relu'
        One of ``ACTIVATIONS`` (``relu``, ``sigmoid``, ``tanh``, ``elu``, ``selu``, ``gelu``,
        ``swish``, ``softplus``, ``linear``).

    Returns
    -------
    Dense
        A frozen, TensorFlow-free description for ``architecture=[...]``.

    Examples
    --------
    >>> import dlstat as dl
    >>> dl.dense(32)
    Dense(units=32, activation='relu', kind='dense')
    """
    return Dense(_units(units), _activation(activation))


def dropout(rate: float) -> Dropout:
    """A dropout layer spec: a fraction ``rate`` of the previous units is zeroed at each step.

    Parameters
    ----------
    rate : float
        The dropped fraction, in [0, 1).

    Returns
    -------
    Dropout
        The layer spec (dropout is off at prediction).

    Examples
    --------
    >>> import dlstat as dl
    >>> dl.dropout(0.2).rate
    0.2
    """
    return Dropout(_rate(rate))


def batchnorm(momentum: float = 0.9, epsilon: float = 1e-3) -> BatchNorm:
    """A batch-normalisation layer spec: the previous units normalised over each mini-batch.

    Parameters
    ----------
    momentum : float, default 0.9
        Weight of the old moving averages (used at prediction), in [0, 1).
    epsilon : float, default 1e-3
        Added to the variance before the square root; > 0.

    Returns
    -------
    BatchNorm
        The layer spec.

    Examples
    --------
    >>> import dlstat as dl
    >>> dl.batchnorm().momentum
    0.9
    """
    if not 0 <= momentum < 1 or epsilon <= 0:
        raise OptionError(
            f"batchnorm needs 0 <= momentum < 1 and epsilon > 0; got momentum={momentum!r}, "
            f"epsilon={epsilon!r}."
        )
    return BatchNorm(float(momentum), float(epsilon))


def activation(name: str) -> Activation:
    """An activation layer spec: a function applied to each unit of the previous layer.

    Parameters
    ----------
    name : str
        One of ``ACTIVATIONS`` (``relu``, ``sigmoid``, ``tanh``, ``elu``, ``selu``, ``gelu``,
        ``swish``, ``softplus``, ``linear``).

    Returns
    -------
    Activation
        The layer spec.

    Examples
    --------
    >>> import dlstat as dl
    >>> dl.activation("tanh").name
    'tanh'
    """
    return Activation(_activation(name))


def reshape(shape: Any, joined: int = 0) -> Reshape:
    """A reshape spec: each row's values read as an array of ``shape``, e.g. ``(28, 28, 1)``.

    Parameters
    ----------
    shape : int or tuple of int
        The array shape of a row (without the row axis).
    joined : int, default 0
        The last ``joined`` values of a row (tabular inputs) skip the array part and are
        joined after flattening.

    Returns
    -------
    Reshape
        The layer spec.

    Examples
    --------
    >>> import dlstat as dl
    >>> dl.reshape((28, 28, 1)).shape
    (28, 28, 1)
    """
    if isinstance(joined, bool) or not isinstance(joined, (int, float)) or joined < 0 or \
            joined != int(joined):
        raise OptionError(f"reshape needs joined as a whole number >= 0 (the tabular inputs "
                          f"after the array); got joined={joined!r}.")
    return Reshape(_sizes(shape, "reshape", "shape", None), joined=int(joined))


def conv2d(filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
           dilation: Any = 1, activation: str = "relu") -> Conv:
    """A 2-D convolution spec (input ``[h, w, channels]``); sizes are a number or a pair.

    Parameters
    ----------
    filters : int
        Number of filters (output channels).
    kernel_size : int or tuple of int
        The window size (a number or a pair).
    strides : int or tuple of int, default 1
        The step between windows.
    padding : {'valid', 'same'}, default 'valid'
        ``'same'`` pads so the output keeps the input's size (stride 1).
    dilation : int or tuple of int, default 1
        Spacing between the window's taps.
    activation : str, default 'relu'
        One of ``ACTIVATIONS`` (``relu``, ``sigmoid``, ``tanh``, ``elu``, ``selu``, ``gelu``,
        ``swish``, ``softplus``, ``linear``).

    Returns
    -------
    Conv
        The layer spec.

    Examples
    --------
    >>> import dlstat as dl
    >>> dl.conv2d(16, 3).kernel_size
    (3, 3)
    """
    return _conv("conv2d", 2, filters, kernel_size, strides, padding, dilation, activation)


def conv1d(filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
           dilation: Any = 1, activation: str = "relu") -> Conv:
    """A 1-D convolution spec (input ``[T, channels]``, a sequence).

    Parameters
    ----------
    filters : int
        Number of filters (output channels).
    kernel_size : int or tuple of int
        The window size.
    strides : int or tuple of int, default 1
        The step between windows.
    padding : {'valid', 'same'}, default 'valid'
        ``'same'`` pads so the output keeps the input's size (stride 1).
    dilation : int or tuple of int, default 1
        Spacing between the window's taps.
    activation : str, default 'relu'
        One of ``ACTIVATIONS`` (``relu``, ``sigmoid``, ``tanh``, ``elu``, ``selu``, ``gelu``,
        ``swish``, ``softplus``, ``linear``).

    Returns
    -------
    Conv
        The layer spec.

    Examples
    --------
    >>> import dlstat as dl
    >>> dl.conv1d(8, 5).kernel_size
    (5,)
    """
    return _conv("conv1d", 1, filters, kernel_size, strides, padding, dilation, activation)


def maxpool(pool_size: Any = 2, strides: Any = None, padding: str = "valid") -> Pool:
    """A max-pooling spec: the largest value of each window, per channel.

    Parameters
    ----------
    pool_size : int or tuple of int, default 2
        The window size.
    strides : int or tuple of int, optional
        The step between windows; by default ``pool_size`` (windows that do not overlap).
    padding : {'valid', 'same'}, default 'valid'
        ``'same'`` pads the edges.

    Returns
    -------
    Pool
        The layer spec.

    Examples
    --------
    >>> import dlstat as dl
    >>> dl.maxpool(2).kind
    'maxpool'
    """
    return _pool("maxpool", pool_size, strides, padding)


def avgpool(pool_size: Any = 2, strides: Any = None, padding: str = "valid") -> Pool:
    """An average-pooling spec: each window's mean (padding never counts towards it, as in Keras).

    Parameters
    ----------
    pool_size : int or tuple of int, default 2
        The window size.
    strides : int or tuple of int, optional
        The step between windows; by default ``pool_size`` (windows that do not overlap).
    padding : {'valid', 'same'}, default 'valid'
        ``'same'`` pads the edges.

    Returns
    -------
    Pool
        The layer spec.

    Examples
    --------
    >>> import dlstat as dl
    >>> dl.avgpool(2).kind
    'avgpool'
    """
    return _pool("avgpool", pool_size, strides, padding)


def flatten() -> Flatten:
    """A flatten spec: the array of each row as one vector.

    Returns
    -------
    Flatten
        The layer spec; tabular columns of an array formula join after it.

    Examples
    --------
    >>> import dlstat as dl
    >>> dl.flatten().kind
    'flatten'
    """
    return Flatten()


def global_avgpool() -> GlobalAvgPool:
    """A global average-pooling spec: one mean per channel.

    Returns
    -------
    GlobalAvgPool
        The layer spec; tabular columns of an array formula join after it.

    Examples
    --------
    >>> import dlstat as dl
    >>> dl.global_avgpool().kind
    'global_avgpool'
    """
    return GlobalAvgPool()


def rnn(units: int, activation: str = "tanh", return_sequences: bool = False) -> Recurrent:
    """A simple recurrent layer spec: ``h_t = activation(x_t W + h_(t-1) U + b)``.

    Parameters
    ----------
    units : int
        Number of units (the state's size), at most 4,096.
    activation : str, default 'tanh'
        The state's activation.
    return_sequences : bool, default False
        Give every step's output (for a further recurrent layer) instead of the last one.

    Returns
    -------
    Recurrent
        The layer spec (input ``[T, p]`` per row).

    Examples
    --------
    >>> import dlstat as dl
    >>> dl.rnn(8).units
    8
    """
    return _recurrent("rnn", units, activation, "sigmoid", return_sequences)


def lstm(units: int, activation: str = "tanh", recurrent_activation: str = "sigmoid",
         return_sequences: bool = False) -> Recurrent:
    """An LSTM layer spec (input, forget and output gates; Keras's gate order i, f, c, o).

    Parameters
    ----------
    units : int
        Number of units (the state's size), at most 4,096.
    activation : str, default 'tanh'
        The state's activation.
    recurrent_activation : str, default 'sigmoid'
        The gates' activation.
    return_sequences : bool, default False
        Give every step's output (for a further recurrent layer) instead of the last one.

    Returns
    -------
    Recurrent
        The layer spec (input ``[T, p]`` per row).

    Examples
    --------
    >>> import dlstat as dl
    >>> dl.lstm(16).kind
    'lstm'
    """
    return _recurrent("lstm", units, activation, recurrent_activation, return_sequences)


def gru(units: int, activation: str = "tanh", recurrent_activation: str = "sigmoid",
        return_sequences: bool = False) -> Recurrent:
    """A GRU layer spec (update and reset gates; Keras's default ``reset_after=True``).

    Parameters
    ----------
    units : int
        Number of units (the state's size), at most 4,096.
    activation : str, default 'tanh'
        The state's activation.
    recurrent_activation : str, default 'sigmoid'
        The gates' activation.
    return_sequences : bool, default False
        Give every step's output (for a further recurrent layer) instead of the last one.

    Returns
    -------
    Recurrent
        The layer spec (input ``[T, p]`` per row).

    Examples
    --------
    >>> import dlstat as dl
    >>> dl.gru(16).kind
    'gru'
    """
    return _recurrent("gru", units, activation, recurrent_activation, return_sequences)


def bidirectional(layer: Recurrent, merge: str = "concat") -> Bidirectional:
    """A bidirectional wrapper spec around ``rnn()``, ``lstm()`` or ``gru()``.

    Parameters
    ----------
    layer : Recurrent
        The recurrent layer run forwards and, with its own weights, backwards.
    merge : {'concat', 'sum', 'mul', 'ave'}, default 'concat'
        How the two directions' outputs are combined.

    Returns
    -------
    Bidirectional
        The layer spec.

    Raises
    ------
    DlstatError
        ``layer`` that is not a recurrent layer spec (``OptionTypeError``, a ``TypeError``),
        or an unknown ``merge`` (``OptionError``).

    Examples
    --------
    >>> import dlstat as dl
    >>> dl.bidirectional(dl.lstm(8)).merge
    'concat'
    """
    if not isinstance(layer, Recurrent):
        raise OptionTypeError(f"bidirectional() wraps a recurrent layer spec (rnn(), lstm() or "
                              f"gru()); got {layer!r}. Example: bidirectional(lstm(16)).")
    if merge not in MERGES:
        raise OptionError(f"bidirectional needs merge one of {list(MERGES)}; got "
                          f"merge={merge!r}.")
    return Bidirectional(layer, str(merge))


def embedding(input_dim: int, output_dim: int) -> Embedding:
    """An embedding spec: integer codes (0 to ``input_dim`` - 1; 4 of them for DNA) to vectors.

    Parameters
    ----------
    input_dim : int
        Number of codes (at most 1,000,000).
    output_dim : int
        Length of each code's vector (at most 4,096).

    Returns
    -------
    Embedding
        The layer spec; it comes first, on inputs ``[n, T]`` of codes.

    Examples
    --------
    >>> import dlstat as dl
    >>> dl.embedding(4, 8).output_dim
    8
    """
    for name, value, top in (("input_dim", input_dim, MAX_EMBEDDING_CODES),
                             ("output_dim", output_dim, MAX_EMBEDDING_DIM)):
        if _units(value) > top:
            raise OptionError(f"embedding needs {name} <= {top:,}; got {name}={value!r}. "
                              "Recode rare codes into one, or use a smaller embedding.")
    return Embedding(int(input_dim), int(output_dim))


def _recurrent(kind: str, units: Any, activation_name: Any, recurrent_name: Any,
               return_sequences: Any) -> Recurrent:
    if _units(units) > MAX_RECURRENT_UNITS:
        raise OptionError(f"{kind} needs units <= {MAX_RECURRENT_UNITS:,} (the work per step "
                          f"grows with units squared); got units={units!r}.")
    if not isinstance(return_sequences, bool):
        raise OptionTypeError(f"{kind} needs return_sequences True or False; got "
                              f"{return_sequences!r}.")
    return Recurrent(int(units), _activation(activation_name), _activation(recurrent_name),
                     return_sequences, kind)


def code_input(layers: tuple[Layer, ...]) -> Embedding | None:
    """The embedding that reads the network's inputs as integer codes (so they are not
    standardised), or None; an embedding anywhere else is refused."""
    first = next((layer for layer in layers if not isinstance(layer, Reshape)), None)
    later = [layer for layer in layers if isinstance(layer, Embedding) and layer is not first]
    if later:
        raise OptionError(
            f"embedding() reads integer codes, so it must be the first layer; got it after "
            f"{describe(first)}. Put embedding(...) first: architecture=[dl.embedding(20, 8), "
            "dl.lstm(16)]."
        )
    return first if isinstance(first, Embedding) else None


def _conv(kind: str, rank: int, filters: Any, kernel_size: Any, strides: Any, padding: Any,
          dilation: Any, activation_name: Any) -> Conv:
    sizes = {name: _sizes(value, kind, name, rank) for name, value in
             (("kernel_size", kernel_size), ("strides", strides), ("dilation", dilation))}
    if max(sizes["strides"]) > 1 and max(sizes["dilation"]) > 1:
        raise OptionError(
            f"{kind} takes strides > 1 or dilation > 1, not both (Keras refuses the "
            f"combination); got strides={strides!r}, dilation={dilation!r}. Use a pooling "
            "layer after a dilated convolution instead."
        )
    return Conv(_units(filters), sizes["kernel_size"], sizes["strides"],
                _padding(kind, padding), sizes["dilation"], _activation(activation_name), kind)


def _pool(kind: str, pool_size: Any, strides: Any, padding: Any) -> Pool:
    size = _sizes(pool_size, kind, "pool_size", None)
    step = size if strides is None else _sizes(strides, kind, "strides", None)
    if len(size) != len(step) and 1 not in (len(size), len(step)):
        raise OptionError(f"{kind} needs pool_size and strides of the same length; got "
                          f"pool_size={pool_size!r}, strides={strides!r}.")
    return Pool(size, step, _padding(kind, padding), kind)


def _sizes(value: Any, kind: str, name: str, rank: int | None) -> tuple[int, ...]:
    """Positive whole sizes as a tuple: one number, or ``rank`` of them (any count if None)."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    whole = all(not isinstance(v, bool) and isinstance(v, (int, float)) and v == int(v) >= 1
                for v in items)
    if not items or not whole or (rank is not None and len(items) not in (1, rank)) or \
            len(items) > 3:
        count = "one number" if rank == 1 else f"one number or {rank}" if rank else "numbers"
        raise OptionError(f"{kind} needs {name} as {count}, each a whole number >= 1; got "
                          f"{name}={value!r}. Example: {kind}({name}=3).")
    items = tuple(int(v) for v in items)
    return items * rank if rank is not None and len(items) == 1 else items


def _padding(kind: str, padding: Any) -> str:
    if padding not in PADDINGS:
        raise OptionError(f"{kind} needs padding 'valid' (no padding) or 'same' (output as "
                          f"long as the input at stride 1); got padding={padding!r}.")
    return str(padding)


def resolve(
    hidden: Any = (32, 16),
    activation_name: str = "relu",
    dropout_rate: float = 0.0,
    use_batchnorm: bool = False,
    architecture: list[Layer] | None = None,
) -> tuple[Layer, ...]:
    """The layer list a fit uses: ``architecture`` as given, or the ``hidden`` shorthand."""
    if architecture is not None:
        layers = tuple(architecture)
        for layer in layers:
            if not isinstance(layer, LAYER_TYPES):
                raise OptionTypeError(
                    f"architecture must be a list of dlstat layer specs (dense(), dropout(), "
                    f"batchnorm(), activation(), conv2d(), maxpool(), flatten() ...); got "
                    f"{layer!r}."
                )
        return layers
    if hidden is None:
        hidden = ()
    if isinstance(hidden, (int, float)) and not isinstance(hidden, bool):
        hidden = (hidden,)
    if not isinstance(hidden, (tuple, list)):
        raise OptionTypeError(
            f"hidden must be a tuple of layer widths such as (32, 16), or () for none; "
            f"got {hidden!r}."
        )
    act = _activation(activation_name)
    rate = _rate(dropout_rate)
    if not isinstance(use_batchnorm, bool):
        raise OptionTypeError(f"batchnorm must be True or False; got {use_batchnorm!r}.")
    layers: list[Layer] = []
    for width in hidden:
        if use_batchnorm:
            layers += [Dense(_units(width), "linear"), BatchNorm(), Activation(act)]
        else:
            layers.append(Dense(_units(width), act))
        if rate > 0:
            layers.append(Dropout(rate))
    return tuple(layers)


def to_json(layers: tuple[Layer, ...]) -> list[dict[str, Any]]:
    return [asdict(layer) for layer in layers]


def from_json(items: list[dict[str, Any]]) -> tuple[Layer, ...]:
    return tuple(SPEC_TABLE[d["kind"]].spec(**d) for d in items)


def describe(layer: Layer) -> str:
    if isinstance(layer, Dense):
        return f"dense({layer.units}, {layer.activation})"
    if isinstance(layer, Dropout):
        return f"dropout({layer.rate:g})"
    if isinstance(layer, BatchNorm):
        return "batchnorm()"
    if isinstance(layer, Conv):
        return (f"{layer.kind}({layer.filters}, {layer.kernel_size}, {layer.activation}"
                f"{_window_options(layer, strides=1, dilation=1)})")
    if isinstance(layer, Reshape) and layer.joined:
        return f"reshape({layer.shape}, joined={layer.joined})"
    if isinstance(layer, Pool):
        return f"{layer.kind}({layer.pool_size}{_window_options(layer, strides=layer.pool_size)})"
    if isinstance(layer, Reshape):
        return f"{layer.kind}({layer.shape})"
    if isinstance(layer, (Flatten, GlobalAvgPool)):
        return f"{layer.kind}()"
    if isinstance(layer, Recurrent):
        return f"{layer.kind}({layer.units}{', sequences' if layer.return_sequences else ''})"
    if isinstance(layer, Bidirectional):
        return f"bidirectional({describe(layer.layer)}, {layer.merge})"
    if isinstance(layer, Embedding):
        return f"embedding({layer.input_dim}, {layer.output_dim})"
    return f"activation({layer.name})"


def _window_options(layer: Conv | Pool, **defaults: Any) -> str:
    """A window layer's strides, dilation and padding where they differ from the defaults,
    as ``, strides=(2, 2), padding=same``: a printed architecture must say how it slides."""
    shown = []
    for name, default in defaults.items():
        value = getattr(layer, name)
        if any(v != d for v, d in zip(value, default if isinstance(default, tuple)
                                      else (default,) * len(value))):
            shown.append(f"{name}={value}")
    if layer.padding != "valid":
        shown.append(f"padding={layer.padding}")
    return "".join(f", {item}" for item in shown)


def _units(units: Any) -> int:
    if isinstance(units, bool) or not isinstance(units, (int, float)) or units != int(units) \
            or int(units) < 1:
        raise OptionError(
            f"layer widths must be positive whole numbers; got {units!r}. Example: hidden=(32, 16)."
        )
    return int(units)


def _rate(rate: Any) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise OptionError(f"dropout rate must be a number in [0, 1); got {rate!r}.")
    return float(rate)


def _activation(name: Any) -> str:
    if name not in ACTIVATIONS:
        raise OptionError(f"activation must be one of {list(ACTIVATIONS)}; got {name!r}.")
    return str(name)


# ------------------------------------------------------------------------------ the spec table


@dataclass(frozen=True)
class SpecKind:
    """What the TensorFlow-free code needs of one layer kind; the engine's layer table
    (``engine/layers.py``) holds its shapes, parameters and forward passes.

    Attributes
    ----------
    spec
        The spec class.
    from_fields
        The checked constructor of a spec from its stored fields (without ``kind``), as a
        model file holds them.
    width
        The field a model file bounds (``units``, ``filters``); empty: none.
    rank
        The per-row rank the kind reads as a network's first layer (``[h, w, c]`` is 3): an
        array input one axis short gains a channel axis; 0: any.
    nested
        The field holding a layer spec of its own (a wrapped layer); empty: none.
    """

    spec: type
    from_fields: Callable[..., Any]
    width: str = ""
    rank: int = 0
    nested: str = ""


SPEC_TABLE: dict[str, SpecKind] = {
    "dense": SpecKind(Dense, dense, width="units"),
    "dropout": SpecKind(Dropout, dropout),
    "batchnorm": SpecKind(BatchNorm, batchnorm),
    "activation": SpecKind(Activation, activation),
    "reshape": SpecKind(Reshape, reshape),
    "conv1d": SpecKind(Conv, conv1d, width="filters", rank=2),
    "conv2d": SpecKind(Conv, conv2d, width="filters", rank=3),
    "maxpool": SpecKind(Pool, maxpool),
    "avgpool": SpecKind(Pool, avgpool),
    "flatten": SpecKind(Flatten, flatten),
    "global_avgpool": SpecKind(GlobalAvgPool, global_avgpool),
    "lstm": SpecKind(Recurrent, lstm, rank=2),
    "gru": SpecKind(Recurrent, gru, rank=2),
    "embedding": SpecKind(Embedding, embedding),
    # A simple RNN has no gates: its stored recurrent_activation is not an argument of rnn().
    "rnn": SpecKind(Recurrent, lambda recurrent_activation, **fields: rnn(**fields), rank=2),
    "bidirectional": SpecKind(Bidirectional, lambda layer, merge: bidirectional(layer, merge),
                              rank=2, nested="layer"),
}
LAYER_TYPES = tuple(dict.fromkeys(row.spec for row in SPEC_TABLE.values()))
