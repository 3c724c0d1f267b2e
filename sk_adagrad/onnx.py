"""Export fitted models to ONNX through skl2onnx.

skl2onnx converts scikit-learn's own estimators only; :func:`register_onnx_converters`
teaches it :class:`~sk_adagrad.AdagradClassifier` and
:class:`~sk_adagrad.AdagradRegressor`, alone or inside a pipeline::

    from skl2onnx import to_onnx
    from sk_adagrad.onnx import register_onnx_converters

    register_onnx_converters()
    onx = to_onnx(model, X[:1].astype(np.float32), options={"zipmap": False})

skl2onnx and onnx are imported only when a function here is called, so the
package itself never needs them (``pip install skl2onnx onnxruntime``).

The exported graph is a dense matrix product: ONNX models take dense float
inputs, so densify sparse rows before running them (``X.toarray()``), or
export the whole text pipeline (``TfidfVectorizer`` then the model) and feed
it strings. The text graph's input is a 1-D array of strings, one document
per entry (``np.array(texts)``, shape ``(N,)``), both when converting and
when running: onnxruntime refuses a 2-D ``(N, 1)`` column with "Invalid rank
for input". onnxruntime's tokenizer uses the ``en_US.UTF-8`` locale unless
the vectorizer's ``locale`` option names another, for example
``options={id(vectorizer): {"locale": "C.UTF-8"}}`` on systems without it.

Graph outputs
-------------
Classifier: ``label`` (int64 or string, shape ``(N,)``) and ``probabilities``
(shape ``(N, n_classes)``), computed from the margins ``X @ coef_.T +
intercept_`` exactly as :meth:`~sk_adagrad.AdagradClassifier.predict` and
:meth:`~sk_adagrad.AdagradClassifier.predict_proba` do:

- ``log_loss``: sigmoid (binary), softmax (multinomial) or sigmoids normalised
  to sum to one (one-vs-rest);
- ``modified_huber``: ``(clip(z, -1, 1) + 1) / 2``, normalised for one-vs-rest;
- the other losses have no probabilities; like skl2onnx's ``SGDClassifier``
  converter the second output then holds the decision scores (``[-z, z]``
  for a binary model).

The option ``raw_scores=True`` gives the scores for every loss. ``zipmap``,
``nocl`` and ``output_class_labels`` behave as for scikit-learn classifiers.

Regressor: ``variable`` of shape ``(N, 1)``.

Float inputs give float weights and outputs (double inputs: double), so
results agree with the float64 model to float32 precision.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._classifier import AdagradClassifier
from ._regressor import AdagradRegressor

__all__ = ["register_onnx_converters", "to_onnx"]

CLASSIFIER_ALIAS = "SkAdagradClassifier"
REGRESSOR_ALIAS = "SkAdagradRegressor"
CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "nocl": [True, False],
    "output_class_labels": [False, True],
    "raw_scores": [True, False],
}


def register_onnx_converters() -> None:
    """Register the ONNX converters of both estimators with skl2onnx.

    Safe to call more than once. After it, :func:`skl2onnx.to_onnx` and
    :func:`skl2onnx.convert_sklearn` accept :class:`~sk_adagrad.AdagradClassifier`
    and :class:`~sk_adagrad.AdagradRegressor`, also as steps of a
    :class:`~sklearn.pipeline.Pipeline`.

    Raises
    ------
    ImportError
        If skl2onnx is not installed.
    """
    from skl2onnx import update_registered_converter

    update_registered_converter(
        AdagradClassifier,
        CLASSIFIER_ALIAS,
        _classifier_shapes,
        _convert_classifier,
        options=CLASSIFIER_OPTIONS,
    )
    update_registered_converter(
        AdagradRegressor, REGRESSOR_ALIAS, _regressor_shapes, _convert_regressor
    )


def to_onnx(model: Any, X: Any, **kwargs: Any) -> Any:
    """Register the converters and convert ``model`` with :func:`skl2onnx.to_onnx`.

    Parameters
    ----------
    model : estimator
        A fitted :class:`~sk_adagrad.AdagradClassifier`,
        :class:`~sk_adagrad.AdagradRegressor` or a pipeline ending in one.
    X : ndarray
        A few dense sample rows; their dtype (float32 or float64) fixes the
        input type of the graph.
    **kwargs
        Passed on to :func:`skl2onnx.to_onnx` (``options``, ``target_opset``...).

    Returns
    -------
    onnx.ModelProto
        The converted model.
    """
    from skl2onnx import to_onnx as skl2onnx_to_onnx

    register_onnx_converters()
    return skl2onnx_to_onnx(model, X, **kwargs)


# -- shape calculators -----------------------------------------------------------


def _check_single_numeric_input(operator, n_outputs):
    from skl2onnx.common.data_types import (
        BooleanTensorType,
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
    )
    from skl2onnx.common.utils import (
        check_input_and_output_numbers,
        check_input_and_output_types,
    )

    check_input_and_output_numbers(
        operator, input_count_range=1, output_count_range=n_outputs
    )
    check_input_and_output_types(
        operator,
        good_input_types=[
            FloatTensorType,
            DoubleTensorType,
            Int64TensorType,
            BooleanTensorType,
        ],
    )


def _classifier_shapes(operator):
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType
    from skl2onnx.common.utils_classifier import get_label_classes

    _check_single_numeric_input(operator, n_outputs=2)
    n_rows = operator.inputs[0].get_first_dimension()
    labels = _label_values(
        get_label_classes(operator.scope_inst, operator.raw_operator)
    )
    label_type = StringTensorType if labels.dtype.kind == "U" else Int64TensorType
    operator.outputs[0].set_type(label_type([n_rows]))
    # The parser already gave the second output the float type of the input.
    operator.outputs[1].type.shape = [n_rows, len(labels)]


def _regressor_shapes(operator):
    _check_single_numeric_input(operator, n_outputs=1)
    n_rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].set_type(_float_tensor_type(operator)([n_rows, 1]))


def _float_tensor_type(operator):
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    if isinstance(operator.inputs[0].type, DoubleTensorType):
        return DoubleTensorType
    return FloatTensorType


def _label_values(classes):
    """Class labels as the ONNX label tensor holds them: int64 or str."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "biuf":
        as_integers = classes.astype(np.int64)
        if not np.array_equal(as_integers, classes):
            raise ValueError(
                "ONNX export needs integer or string class labels; got "
                f"{classes.tolist()}."
            )
        return as_integers
    return classes.astype(str)


# -- converters ------------------------------------------------------------------


class _GraphWriter:
    """Adds nodes and constants of one converted operator with unique names."""

    def __init__(self, scope, operator, container):
        from onnx import TensorProto

        self.scope = scope
        self.container = container
        self.TensorProto = TensorProto
        double = _float_tensor_type(operator).__name__ == "DoubleTensorType"
        self.float_type = TensorProto.DOUBLE if double else TensorProto.FLOAT
        self.float_dtype = np.float64 if double else np.float32

    def constant(self, hint, values, onnx_type=None):
        """An initializer holding ``values`` (float type of the graph by default)."""
        name = self.scope.get_unique_variable_name(hint)
        if onnx_type is None:
            onnx_type = self.float_type
            values = np.asarray(values, dtype=self.float_dtype)
        values = np.asarray(values)
        if values.dtype.kind == "U":
            content = [value.encode("utf-8") for value in values.ravel()]
        else:
            content = values.ravel()
        self.container.add_initializer(name, onnx_type, list(values.shape), content)
        return name

    def node(self, op_type, inputs, output=None, hint=None, **attributes):
        """Add a node; returns the name of its (single) output."""
        if output is None:
            output = self.scope.get_unique_variable_name(hint or op_type.lower())
        self.container.add_node(
            op_type,
            list(inputs),
            [output],
            name=self.scope.get_unique_operator_name(op_type),
            **attributes,
        )
        return output

    def float_input(self, operator):
        """The input variable, cast to float if it holds integers or booleans."""
        from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

        name = operator.inputs[0].full_name
        if isinstance(operator.inputs[0].type, FloatTensorType | DoubleTensorType):
            return name
        return self.node("Cast", [name], hint="cast_input", to=self.float_type)

    def margins(self, operator, coef, intercept):
        """``X @ coef.T + intercept``, shape (N, n_outputs)."""
        coef = np.asarray(coef.toarray() if hasattr(coef, "toarray") else coef)
        weights = self.constant("coef", np.atleast_2d(coef).T)
        bias = self.constant("intercept", np.asarray(intercept).ravel())
        product = self.node("MatMul", [self.float_input(operator), weights])
        return self.node("Add", [product, bias], hint="margins")


def _convert_regressor(scope, operator, container):
    model = operator.raw_operator
    graph = _GraphWriter(scope, operator, container)
    margins = graph.margins(operator, model.coef_, model.intercept_)
    graph.node("Identity", [margins], output=operator.outputs[0].full_name)


def _convert_classifier(scope, operator, container):
    from skl2onnx.common.utils_classifier import get_label_classes

    model = operator.raw_operator
    graph = _GraphWriter(scope, operator, container)
    labels = _label_values(get_label_classes(scope, model))
    margins = graph.margins(operator, model.coef_, model.intercept_)
    binary = len(labels) == 2

    # Labels come from the margins, as in predict: z > 0 for a binary model
    # (a tie at 0 goes to the first class) and the first argmax otherwise.
    if binary:
        positive = graph.node("Greater", [margins, graph.constant("zero", [0.0])])
        index = graph.node("Cast", [positive], to=graph.TensorProto.INT64)
        flat = graph.constant("flat", [-1], onnx_type=graph.TensorProto.INT64)
        index = graph.node("Reshape", [index, flat], hint="label_index")
    else:
        index = graph.node("ArgMax", [margins], hint="label_index", axis=1, keepdims=0)
    label_type = (
        graph.TensorProto.STRING
        if labels.dtype.kind == "U"
        else graph.TensorProto.INT64
    )
    label_table = graph.constant("classes", labels, onnx_type=label_type)
    graph.node(
        "Gather", [label_table, index], output=operator.outputs[0].full_name, axis=0
    )

    options = container.get_options(model, dict(raw_scores=False))
    second_output = operator.outputs[1].full_name
    # The link of the loss the model was trained with, as predict_proba reads it.
    link = model.optimizer_.loss.link
    if options["raw_scores"] or link is None:
        _write_scores(graph, margins, binary, second_output)
    elif link == "softmax":
        graph.node("Softmax", [margins], output=second_output, axis=1)
    else:
        positive_proba = _ONE_VS_REST_LINKS[link](graph, margins)
        if binary:
            _write_binary_proba(graph, positive_proba, second_output)
        else:
            _write_normalised(graph, positive_proba, len(labels), second_output)


def _write_scores(graph, margins, binary, output):
    """Decision scores; a binary model gets the two columns ``[-z, z]``."""
    if binary:
        negated = graph.node("Neg", [margins])
        graph.node("Concat", [negated, margins], output=output, axis=1)
    else:
        graph.node("Identity", [margins], output=output)


def _logistic_proba(graph, margins):
    """``expit(z)``."""
    return graph.node("Sigmoid", [margins])


def _clipped_linear_proba(graph, margins):
    """``(clip(z, -1, 1) + 1) / 2``, written with Max/Min so that it does not
    depend on the opset's form of Clip."""
    low = graph.node("Max", [margins, graph.constant("minus_one", [-1.0])])
    clipped = graph.node("Min", [low, graph.constant("one", [1.0])])
    shifted = graph.node("Add", [clipped, graph.constant("one", [1.0])])
    return graph.node("Div", [shifted, graph.constant("two", [2.0])])


# The graph of each one-vs-rest link a loss may have (``Loss.link``): each
# output's probability of its class.
_ONE_VS_REST_LINKS = {
    "logistic": _logistic_proba,
    "clipped_linear": _clipped_linear_proba,
}


def _write_binary_proba(graph, positive_proba, output):
    negative_proba = graph.node("Sub", [graph.constant("one", [1.0]), positive_proba])
    graph.node("Concat", [negative_proba, positive_proba], output=output, axis=1)


def _write_normalised(graph, proba, n_classes, output):
    """Rows divided by their sums; an all-zero row becomes uniform, as in
    predict_proba. The row sums are a product with a column of ones, which
    avoids ReduceSum's opset-dependent signature."""
    ones = graph.constant("ones", np.ones((n_classes, 1)))
    totals = graph.node("MatMul", [proba, ones], hint="totals")
    normalised = graph.node("Div", [proba, totals])
    has_mass = graph.node("Greater", [totals, graph.constant("zero", [0.0])])
    uniform = graph.constant("uniform", np.full((1, n_classes), 1.0 / n_classes))
    graph.node("Where", [has_mass, normalised, uniform], output=output)
