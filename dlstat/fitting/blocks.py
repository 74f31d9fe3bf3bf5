"""Blocks: one design (learned on its own training rows) with its family, training rows,
validation rows and held-out rows.  A single fit is one block; k-fold CV is k blocks, each
design learned on its training fold only.  ``train_blocks`` trains any number of networks over
any blocks in one stacked engine call and returns a ``DNNFit`` per network.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..architecture import code_input
from ..engine import StackJob, Topology, forward_auto, glm_path, select, train_stack
from ..engine.job import engine_rows
from ..engine.layers import param_defs
from ..engine.recurrent import check_codes
from ..errors import DataError, DivergenceError, OptionError, warn
from ..families import Family, make_family
from ..families.fitted import given_parameters
from ..formula import Design, build_design, complete_rows
from ..options import FitOptions
from ..progress import EpochProgress
from ..results.calibration import record_calibration
from ..results.fit import DNNFit, FitRecord
from ..results.record import HeldRows, RowPriors
from ..scale import active_client, train_on_cluster
from .aliasing import aliased_columns
from .family_parameter import Estimated, start_values, train_estimating
from .glm_polish import polish, polishable
from .priors import prior_weights


@dataclass
class Block:
    """Training (and validation) rows of one design, encoded for the engine."""

    design: Design
    family: Family
    X: np.ndarray
    Y: np.ndarray
    index: pd.Index
    val_X: np.ndarray | None = None
    val_Y: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    all_X: np.ndarray | None = None  # training + validation rows (for baselines such as GLMs)
    all_Y: np.ndarray | None = None
    val_index: pd.Index | None = None  # labels of the validation rows in val_X
    # Prior weights (times binomial trials) and offsets (user's link scale) of those rows.
    weights: np.ndarray | None = None
    offset: np.ndarray | None = None
    val_weights: np.ndarray | None = None
    val_offset: np.ndarray | None = None
    weights_column: str | None = None
    frame: pd.DataFrame | None = None  # the training rows' input variables (effects per variable)
    _aliased: tuple[int, ...] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.weights is None:
            self.weights = np.ones(len(self.X))

    def aliased(self) -> tuple[int, ...]:
        """The design columns an unpenalised GLM of this block leaves out (R's NA
        coefficients), found once on the training rows."""
        if self._aliased is None:
            self._aliased = aliased_columns(self.design.spec, self.X, self.weights)
        return self._aliased

    def fitting_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The rows a baseline (GLM, null model) fits: the training rows and a validation
        fraction split off them (a network needs it to stop; a GLM does not)."""
        return (self.X, self.Y) if self.all_X is None else (self.all_X, self.all_Y)

    def fitting_priors(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The weights and offset of :meth:`fitting_rows`."""
        if self.all_X is None:
            return self.weights, self.offset
        offset = None if self.offset is None else np.concatenate([self.offset,
                                                                  self.val_offset])
        return np.concatenate([self.weights, self.val_weights]), offset

    def row_priors(self, data: pd.DataFrame,
                   ok: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Weights (prior × trials) and offset of the rows ``ok`` of ``data`` that
        :meth:`evaluate` scored."""
        rows = data.iloc[np.flatnonzero(ok)]
        weights = prior_weights(rows, self.weights_column)
        trials = self.family.trials(self.design.spec.response(rows))
        return weights * trials, self.design.spec.offset(data, ok)

    def scored(self, data: pd.DataFrame, unseen: str = "na",
               what: str = "held-out fold") -> Scored:
        """The rows of ``data`` (held out from this block's training) ready to score."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            X, y, ok = self.evaluate(data, unseen=unseen, what=what)
        weights, offset = self.row_priors(data, ok)
        return Scored(X, y, weights, offset, ok)

    def metrics_of(self, fit: DNNFit, rows: Scored) -> dict[str, float]:
        """The family's (weighted) metrics of ``fit`` on scored ``rows``."""
        mu = fit.family.mean(self.link(fit.params, fit.topology, rows.X, rows.offset))
        return fit.family.metrics(rows.y, mu, rows.weights)

    def link(self, params, topology, X: np.ndarray, offset: np.ndarray | None) -> np.ndarray:
        """The network's output for ``X`` with the rows' ``offset`` (user's link scale)."""
        eta = forward_auto(params, topology, X)
        return eta if offset is None else eta + self.family.encode_offset(offset)

    @property
    def width(self) -> int:
        return self.X.shape[1]

    def evaluate(self, data: pd.DataFrame, unseen: str = "error", what: str = "newdata",
                 na_action: str = "omit", notes: list[str] | None = None):
        """Design rows, natural-scale targets and the scored-row mask of ``data``.

        Rows with a missing predictor or response are left out, with a warning and a note in
        ``notes`` as for training rows (``na_action="fail"`` refuses them)."""
        spec = self.design.spec
        X, ok = spec.design(data, unseen=unseen, what=what)
        resp = spec.response(data.iloc[np.flatnonzero(ok)])
        known = resp.notna().all(axis=1).to_numpy()
        self._note_missing(data, what, na_action, notes if notes is not None else [])
        ok[np.flatnonzero(ok)[~known]] = False
        return X[known], self.family.target(resp.iloc[np.flatnonzero(known)]), ok

    def _note_missing(self, data: pd.DataFrame, what: str, na_action: str,
                      notes: list[str]) -> None:
        spec = self.design.spec
        used = [c for c in dict.fromkeys(spec.response_columns + spec.variables)
                if c in data.columns]
        n_missing = int(data[used].isna().any(axis=1).sum())
        if not n_missing:
            return
        if na_action == "fail":
            raise DataError(f"{n_missing} row(s) of the {what} data have missing values and "
                            "na_action='fail'. Use na_action='omit' to drop them, or fill "
                            "them in first.")
        warn(f"{n_missing} row(s) of the {what} data with missing values were dropped "
             "(na_action='omit').")
        note = f"{n_missing} {what} observation(s) deleted due to missingness."
        if note not in notes:
            notes.append(note)


@dataclass
class Scored:
    """Held-out rows of one block: design, natural-scale targets, weights (prior × trials),
    offset and the mask of the rows of the data they came from."""

    X: np.ndarray
    y: np.ndarray
    weights: np.ndarray
    offset: np.ndarray | None
    ok: np.ndarray


@dataclass
class Network:
    """One network of a stack: which block it trains on, with which penalty and seed."""

    block: int
    penalty: float
    mixture: float
    seed: int
    counts: np.ndarray | None = None  # a bootstrap resample: each training row's count
    # Its own options (tune_dnn: learning rate, decay, dropout, max-norm differing from the
    # stack's, which must share its shapes); None: the stack's options.
    options: FitOptions | None = None


def make_block(formula: str, data: pd.DataFrame, opts: FitOptions, family: str | None = None,
               levels: list[Any] | None = None, validation_seed: int = 0) -> Block:
    """Build the design and family on the training rows of ``data`` and encode the validation
    rows (a fraction of ``data`` split off first, or a frame of their own) with them."""
    train, held = data, opts.validation
    notes: list[str] = []
    n_dropped, chosen = 0, None
    if opts.validation is not None and not isinstance(opts.validation, pd.DataFrame):
        found = complete_rows(formula, data, na_action=opts.na_action)
        if family is None:  # chosen from all rows, so that both parts share the classes
            full, chosen = make_family(opts.family, found.response, link=opts.link,
                                           parameters=given_parameters(opts), ties=opts.ties)
            family, levels = full.name, full.levels
        train_rows, held_rows = _split_rows(found.positions, opts.validation, validation_seed)
        train, held = data.iloc[train_rows], data.iloc[held_rows]
        n_dropped, notes = found.n_dropped, list(found.notes)
    row_weights = prior_weights(train, opts.weights)  # ones without weights
    given = None if opts.weights is None else row_weights
    codes = code_input(opts.layers)
    design = build_design(formula, train, na_action=opts.na_action,
                          center_inputs=bool(opts.layers) or None, weights=given,
                          standardise=codes is None)
    if codes is not None:
        check_codes(design.X, codes.input_dim, "the training data")
    if opts.transfer is not None:  # the inputs as the base network read them
        design = opts.transfer.adopt(design)
    design.n_dropped += n_dropped
    prior = row_weights[design.positions]
    fam, reason = make_family(family or opts.family, design.response, levels=levels,
                              link=opts.link, parameters=given_parameters(opts), ties=opts.ties,
                              intercept=design.spec.intercept, weights=prior)
    notes += design.notes
    if design.offset is not None and fam.kind.several_classes:
        raise OptionError("an offset is not defined for the multinomial family (one linear "
                          "predictor per class); drop the offset, or model one class at a "
                          "time with family='binomial'.")
    reason = reason or chosen
    if reason:
        notes.insert(0, f"family chosen from the response: {reason}.")
    weights = prior * fam.trials(design.response)
    block = Block(design, fam, design.X, fam.encode(design.response),
                  design.rows, notes=notes, weights=weights, offset=design.offset,
                  weights_column=opts.weights,
                  frame=_input_frame(train, design.spec, design.positions))
    if held is not None:
        # A level only in split-off rows cannot be scored (as in a CV fold); a given frame
        # follows unseen=.
        unseen = opts.unseen if held is opts.validation else "na"
        block.val_X, y_val, ok = block.evaluate(held, unseen=unseen, what="validation",
                                                na_action=opts.na_action, notes=block.notes)
        block.val_index = held.index[ok]
        block.val_Y = fam.encode_target(y_val)
        block.val_weights, block.val_offset = block.row_priors(held, ok)
        if codes is not None:
            check_codes(block.val_X, codes.input_dim, "the validation data")
        if held is not opts.validation:  # baselines fit a split-off fraction too
            block.all_X = np.vstack([block.X, block.val_X])
            block.all_Y = np.vstack([block.Y, block.val_Y])
    return block


def _input_frame(train: pd.DataFrame, spec: Any, positions: np.ndarray) -> pd.DataFrame | None:
    """The training rows' input variables as given (perturbed and replayed through the design
    by per-variable effects); ``None`` for a design without named variables."""
    variables = [v for v in getattr(spec, "variables", []) if v in train.columns]
    return train[variables].iloc[positions] if variables else None


def _split_rows(rows: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation positions among the complete ``rows`` (both in data order)."""
    n = len(rows)
    n_val = int(round(fraction * n))
    if n_val < 1 or n - n_val < 1:
        raise DataError(
            f"validation={fraction} of {n} rows leaves {n_val} validation and {n - n_val} "
            "training rows; both need at least one. Use a different fraction or more data."
        )
    order = np.random.default_rng([seed, 7]).permutation(n)
    return rows[np.sort(order[: n - n_val])], rows[np.sort(order[n - n_val:])]


def train_blocks(blocks: list[Block], networks: list[Network], opts: FitOptions,
                 call: str, formula: str, group_inputs: bool = False,
                 measured: bool = True) -> list[DNNFit]:
    """Train every network in one engine call; return a fitted ``DNNFit`` per network
    (``measured=False``: without training metrics and calibration, for networks that are
    only scored on held-out rows and dropped, such as a path's fold networks)."""
    width = max(b.width for b in blocks)
    k = blocks[0].family.n_outputs
    dropped = _aliased_by_block(blocks, networks, opts)
    parts_X, parts_Y, parts_O, train_rows, val_rows, offset = [], [], [], [], [], 0
    for b, aliased in zip(blocks, dropped):
        for X, Y, link_offset, rows in ((b.X, b.Y, b.offset, train_rows),
                                        (b.val_X, b.val_Y, b.val_offset, val_rows)):
            if X is None:
                rows.append(np.zeros(0, np.int64))
                continue
            if aliased:  # left out of the fit: a zero input has no gradient
                X = X.copy()
                X[:, list(aliased)] = 0.0
            parts_X.append(X)
            parts_Y.append(Y)
            parts_O.append(np.zeros((len(Y), k)) if link_offset is None
                           else b.family.encode_offset(link_offset))
            rows.append(np.arange(offset, offset + len(X)))
            offset += len(X)
    # one part (a fit without validation rows) is used as it is: no copy of a large design
    all_Y, all_O = (p[0] if len(p) == 1 else np.vstack(p) for p in (parts_Y, parts_O))
    all_X = engine_rows(parts_X, width, opts.optimizer)  # narrower blocks padded with zeros
    M = len(networks)
    train_w = np.zeros((M, offset))
    has_val = any(len(v) for v in val_rows)
    val_w = np.zeros((M, offset)) if has_val else None
    repeats = None if all(n.counts is None for n in networks) else np.ones((M, offset), np.int64)
    for m, net in enumerate(networks):
        weights = blocks[net.block].weights
        if net.counts is not None:  # a resample: rows repeated in each epoch, not reweighted
            weights = weights * (net.counts > 0)
            repeats[m, train_rows[net.block]] = net.counts
        train_w[m, train_rows[net.block]] = weights
        if val_w is not None:
            val_w[m, val_rows[net.block]] = blocks[net.block].val_weights
    intercept = blocks[0].design.spec.intercept
    topology = Topology(width, opts.layers, k, output_bias=intercept, frozen=_frozen(opts))
    if opts.transfer is not None:
        opts.transfer.check_outputs(k)
    job = StackJob(
        topology=topology, family=blocks[0].family.loss, X=all_X, Y=all_Y,
        train_weights=train_w, val_weights=val_w, train_repeats=repeats,
        penalty=np.array([n.penalty / blocks[n.block].family.penalty_scale for n in networks]),
        mixture=np.array([n.mixture for n in networks], float),
        seeds=np.array([n.seed for n in networks]),
        output_bias=np.stack([_null_link(blocks[n.block]) for n in networks]),
        optimizer=opts.optimizer, epochs=opts.max_epochs, batch_size=opts.batch_size,
        patience=opts.early_stopping, group_inputs=group_inputs,
        **per_network_values(networks, opts),
        offset=all_O if any(b.offset is not None for b in blocks) else None,
        initial=None if opts.transfer is None else opts.transfer.weights,
        family_parameter=start_values(blocks, networks),
    )
    result, estimated = train_estimating(job, blocks, networks,
                                         lambda j: _train_with_progress(j, opts))
    if glm_path.solves(job) and opts.client is not None:
        result.notes.append("solved in this process by coordinate descent (an exact "
                            "elastic-net GLM); client= was not needed.")
    if result.diverged.any():
        m = int(np.flatnonzero(result.diverged)[0])
        where = f" (network {m + 1} of {M})" if M > 1 else ""
        lr = job.learning_rate[m]
        raise DivergenceError(
            f"training diverged (a non-finite loss) in epoch {int(result.epochs_run[m])}"
            f"{where} with optimizer={opts.optimizer!r} and learning_rate={lr:g}. Try a "
            f"smaller learning_rate (e.g. {lr / 10:g}), a smaller network, or a penalty."
        )
    fits = []
    with glm_path.blas_threads(job):
        for m, net in enumerate(networks):
            kept = copy.copy(net.options or opts)
            kept.client = None  # how the fit ran, not what it is: a fit never holds a cluster
            fits.append(_fit_of(blocks[net.block], result, m, kept, call, formula,
                                dropped[net.block], estimated,
                                exact=net.counts is None and net.penalty == 0, stack=topology,
                                measured=measured))
    return fits


def per_network_values(networks: list[Network], opts: FitOptions) -> dict[str, np.ndarray | None]:
    """The engine's per-network learning rates, decays, max-norms and dropout rates from each
    network's own options (``opts`` where it has none); dropout rates are per-network tensors
    only when they differ (otherwise the layers' own rate, as a single fit trains)."""
    own = [net.options or opts for net in networks]
    rates = np.array([o.dropout for o in own], float)
    return {"learning_rate": np.array([o.lr for o in own]),
            "learning_rate_decay": np.array([o.learning_rate_decay for o in own], float),
            "max_norm": np.array([np.inf if o.max_norm is None else o.max_norm for o in own]),
            "dropout": rates if np.any(rates != opts.dropout) else None}


def _aliased_by_block(blocks: list[Block], networks: list[Network],
                      opts: FitOptions) -> list[tuple[int, ...]]:
    """The aliased columns each block's networks leave out: an unpenalised GLM (no hidden
    layers, every network of the block with penalty 0) drops them as R's ``glm`` does; a
    penalised fit or a network keeps every column (as glmnet does)."""
    penalised = {n.block for n in networks if n.penalty > 0}
    return [() if opts.layers or opts.transfer is not None or i in penalised
            else b.aliased() for i, b in enumerate(blocks)]


def _null_link(block: Block) -> np.ndarray:
    """The output bias a network of ``block`` starts from: its weighted intercept-only fit."""
    offset = None if block.offset is None else block.family.encode_offset(block.offset)
    return block.family.null_link(block.Y, block.weights, offset)


def _train_with_progress(job: StackJob, opts: FitOptions):
    """Train ``job`` here or, with a Dask client, in chunks on its cluster (the same numbers),
    showing a bar when ``opts.verbose`` asks and the output is a terminal."""
    if glm_path.solves(job):  # elastic-net GLMs: glmnet's exact path solver, in seconds
        return glm_path.solve(job)
    client = active_client(opts.client)
    if client is not None:
        return train_on_cluster(job, client, opts.verbose)
    progress = EpochProgress.start(opts.verbose, job.epochs, job.size, job.expected_seconds())
    if progress is None:
        return train_stack(job)
    job.on_epoch = progress
    try:
        return train_stack(job)
    finally:
        progress.close()


def _fit_of(block: Block, result, m: int, opts: FitOptions, call: str, formula: str,
            aliased: tuple[int, ...] = (), estimated: Estimated | None = None,
            exact: bool = False, stack: Topology | None = None,
            measured: bool = True) -> DNNFit:
    """Network ``m`` of the trained stack as a fit (``exact``: an unpenalised network on its
    block's own rows, which an L-BFGS GLM finishes by Fisher scoring; ``stack``: the stack's
    topology, whose dropout layers a network without dropout does not have)."""
    params = select(result.params, m)
    topology = Topology(block.width, opts.layers, block.family.n_outputs,
                        output_bias=block.design.spec.intercept, frozen=_frozen(opts))
    keys = None if stack is None else (list(param_defs(stack)), list(param_defs(topology)))
    if keys is not None and keys[0] != keys[1]:  # the same parameters keyed by its own layers
        params = {own: params[key] for key, own in zip(*keys)}
    first = topology.input_kernel()
    params[first] = params[first][:, : block.width]  # drop the stack's zero-padding inputs
    if aliased:  # an aliased column contributes nothing to predictions (as in R)
        params[first] = params[first].copy()
        params[first][:, list(aliased)] = 0.0
    ran = ~np.isnan(result.loss[:, m])  # the epochs it trained (NaN once it stopped)
    history = {"epoch": np.arange(1, len(result.loss) + 1)[ran], "loss": result.loss[ran, m]}
    if result.val_loss is not None:
        history["val_loss"] = result.val_loss[ran, m]
    history = pd.DataFrame(history)
    transfer = [] if opts.transfer is None else [opts.transfer.note()]
    family, estimation = block.family, []
    if estimated is not None:  # this network's own estimate of the family's parameter
        family = family.with_parameter(estimated.values[m], estimated.ses[m])
        estimation = estimated.notes
    record = FitRecord(0, block.design.n_dropped,
                       0 if block.val_X is None else len(block.val_X),
                       int(result.epochs_run[m]), int(result.best_epoch[m]), 0.0, 0.0, {},
                       block.notes + transfer + result.notes_of(m) + estimation,
                       aliased=list(aliased))
    trials = family.trials(block.design.response) if family.counts else None
    fit = DNNFit(block.design.spec, family, topology, params, opts, history, record,
                 call=call, train_X=block.X, train_index=block.index, train_Y=block.Y,
                 train_priors=RowPriors(block.weights, block.offset, trials))
    fit.training_frame = block.frame
    if exact and polishable(fit):
        polish(fit)
    if measured:
        measure(fit, block, opts)
    elif fit.family.learns_from_fit:  # what scoring held-out rows needs (a Cox baseline)
        learn_family(fit, block)
    return fit


def learn_family(fit: DNNFit, block: Block) -> np.ndarray:
    """Set the fit's family as learned from its training rows (a survival baseline); return
    the training means."""
    fam = fit.family
    eta = block.link(fit.params, fit.topology, block.X, block.offset)
    fit.family = fam.learned_from_fit(fam.natural(block.Y), eta, block.weights)
    return fam.mean(eta)


def measure(fit: DNNFit, block: Block, opts: FitOptions) -> None:
    """Deviance, null deviance and metrics on training, validation and test rows."""
    fam, rec = fit.family, fit.record
    y, w = fam.natural(block.Y), block.weights
    mu = learn_family(fit, block)
    rec.n_obs = int((w > 0).sum())  # as R: rows of weight 0 are not observations
    rec.n_zero_weight = len(w) - rec.n_obs
    if rec.n_obs < len(w) and not any("prior weight 0" in n for n in rec.notes):
        rec.notes.append(f"{len(w) - rec.n_obs} observation(s) with prior weight 0 are not "
                         "counted in nobs or the degrees of freedom (as R's glm).")
    _check_separation(fit, mu)
    rec.metrics["train"] = fam.metrics(y, mu, w)
    rec.deviance = rec.metrics["train"]["deviance"]
    null_mu = fam.null_means(y, w, block.offset, block.design.spec.intercept)
    rec.null_deviance = fam.deviance(y, null_mu, w)
    if block.val_X is not None:
        val_mu = fam.mean(block.link(fit.params, fit.topology, block.val_X, block.val_offset))
        rec.metrics["validation"] = fam.metrics(fam.natural(block.val_Y), val_mu,
                                                block.val_weights)
        fit.held_rows["validation"] = HeldRows(block.val_X, fam.natural(block.val_Y),
                                               block.val_weights, block.val_offset)
    if isinstance(opts.test, pd.DataFrame):
        tX, ty, ok = block.evaluate(opts.test, unseen=opts.unseen, what="test",
                                    na_action=opts.na_action, notes=rec.notes)
        tw, to = block.row_priors(opts.test, ok)
        rec.metrics["test"] = fam.metrics(
            ty, fam.mean(block.link(fit.params, fit.topology, tX, to)), tw)
        fit.held_rows["test"] = HeldRows(tX, ty, tw, to)
    record_calibration(fit)


# R's glm.fit: fitted probabilities within 10 * .Machine$double.eps of 0 or 1 (every row).
SEPARATION_EPS = 10 * np.finfo(np.float64).eps


def _check_separation(fit: DNNFit, mu: np.ndarray) -> None:
    """As R's glm(): fitted probabilities of 0 or 1 mean the classes are (nearly) separable,
    so a GLM's coefficients are not finite estimates; say so.  A network with hidden layers
    has no coefficients to diverge and fits confident probabilities by design: no warning."""
    if not fit.family.is_classification or fit.topology.layers:
        return
    extreme = int(((mu < SEPARATION_EPS) | (mu > 1 - SEPARATION_EPS)).any(axis=1).sum())
    if not extreme:
        return
    text = (f"fitted probabilities numerically 0 or 1 for {extreme} training row(s): the "
            "classes are (nearly) separable; the GLM's coefficients diverge (add a penalty "
            "for finite estimates).")
    warn(text)
    fit.record.notes.append(text)


def _frozen(opts: FitOptions) -> tuple[int, ...]:
    """The hidden layers a transferred network keeps fixed (none without a base)."""
    return () if opts.transfer is None else opts.transfer.frozen
