"""PyTorch-native static INT8 through PT2E: torchao's ``X86InductorQuantizer`` and Intel Neural Compressor 3.x.

Both export the model, insert observers, calibrate, convert to a graph of quantize/dequantize ops around
FP32 operators, and hand that graph to ``torch.compile`` (inductor, freezing), which fuses the patterns into
oneDNN INT8 kernels. The converted graph alone runs reference ops and is *slower* than FP32: always compile.

The artefact is the converted program re-exported and saved with ``torch.export.save`` (``.pt2``: graph
and tensors, no pickled code); ``load_program`` opens one only after ``check_pt2_archive`` passed.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from lib.quant.artefacts import check_pt2_archive
from lib.quant.base import BackendUnavailable, Predictor, QuantContext, SavedPredictor, artefact_bytes, make_workdir
from lib.quant.graph import BATCH_DIM, compile_module, export_program


def _calibrate(prepared: Callable, batches: Sequence[torch.Tensor]) -> None:
    with torch.no_grad():
        for batch in batches:
            prepared(batch)


def drop_unused_tensors(graph: torch.fx.GraphModule) -> torch.fx.GraphModule:
    """Remove parameters and buffers the graph no longer reads.

    ``convert_pt2e`` folds weights into new int8 constants but leaves the FP32 originals registered;
    saved as they are, an INT8 artefact would be larger than the FP32 one.
    """
    used = {node.target for node in graph.graph.nodes if node.op == "get_attr"}
    for name in [n for n, _ in graph.named_parameters()] + [n for n, _ in graph.named_buffers()]:
        if name not in used:
            owner, _, attr = name.rpartition(".")
            delattr(graph.get_submodule(owner) if owner else graph, attr)
    return graph


def save_program(module: nn.Module, example: torch.Tensor, path) -> int:
    """Re-export a converted graph and save it as ``.pt2``; returns its size in bytes."""
    if isinstance(module, torch.fx.GraphModule):
        from torchao.quantization.pt2e.constant_fold import constant_fold

        constant_fold(module)  # INC converts without folding: store weights as int8, not fp32 + quantize op
        drop_unused_tensors(module)
    program = torch.export.export(module, (example,), dynamic_shapes=({0: BATCH_DIM},), strict=False)
    torch.export.save(program, path)
    return artefact_bytes(path)


def _finish(name: str, converted: nn.Module, ctx: QuantContext, notes: str) -> Predictor:
    directory, tmp = make_workdir(ctx.out_dir, name)
    artefact = directory / "model.pt2"
    size = save_program(converted, ctx.export_example, artefact)
    compiled = compile_module(converted, ctx.example)
    return Predictor(name, compiled, ctx.input_size, static_size=True, size_bytes=size, artefact=artefact,
                     workdir=tmp, notes=notes, compiled=True)


def _torchao():
    try:
        import torchao.quantization.pt2e.quantizer.x86_inductor_quantizer as x86
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
    except ImportError as err:  # pragma: no cover - torchao is pinned in requirements.txt
        raise BackendUnavailable(f"torchao is not installed ({err}); pip install torchao") from err
    return x86, prepare_pt2e, convert_pt2e


def build_pt2e_int8(model: nn.Module, ctx: QuantContext) -> Predictor:
    """torchao PT2E: ``X86InductorQuantizer`` defaults (per-channel symmetric weights, per-tensor uint8 activations)."""
    x86, prepare_pt2e, convert_pt2e = _torchao()
    quantizer = x86.X86InductorQuantizer()
    quantizer.set_global(x86.get_default_x86_inductor_quantization_config())
    graph = export_program(copy.deepcopy(model), ctx.export_example, strict=True).module()
    prepared = prepare_pt2e(graph, quantizer)
    _calibrate(prepared, ctx.calib)
    converted = convert_pt2e(prepared)
    return _finish("pt2e-int8", converted, ctx, "torchao prepare_pt2e/convert_pt2e, X86InductorQuantizer, torch.compile")


def _inc():
    try:
        from neural_compressor.torch.export import export
        from neural_compressor.torch.quantization import StaticQuantConfig, TuningConfig, autotune, convert, prepare
    except ImportError as err:
        raise BackendUnavailable(f"Neural Compressor is not installed ({err}); pip install 'neural-compressor[pt]'") from err
    # INC logs every op it touches at INFO; keep notebooks readable.
    logging.getLogger("neural_compressor").setLevel(logging.WARNING)
    return export, StaticQuantConfig, TuningConfig, autotune, prepare, convert


def _inc_export(model: nn.Module, ctx: QuantContext):
    export = _inc()[0]
    return export(copy.deepcopy(model).eval(), example_inputs=(ctx.export_example,), dynamic_shapes=({0: BATCH_DIM},))


def build_inc_int8(model: nn.Module, ctx: QuantContext) -> Predictor:
    """Neural Compressor 3.x static PTQ (``StaticQuantConfig``: its PT2E path when IPEX is absent)."""
    _, StaticQuantConfig, _, _, prepare, convert = _inc()
    graph = _inc_export(model, ctx)
    prepared = prepare(graph, StaticQuantConfig(**ctx.options.get("inc_config", {})))
    _calibrate(prepared, ctx.calib)
    converted = convert(prepared)
    return _finish("inc-int8", converted, ctx, "Neural Compressor StaticQuantConfig (PT2E), torch.compile")


DEFAULT_TUNING_SPACE: tuple[dict[str, Any], ...] = (
    {},  # INC's default: per-channel symmetric int8 weights, per-tensor asymmetric uint8 activations, min-max
    {"act_algo": "kl"},  # activation ranges by KL divergence: clips outliers
    {"w_granularity": "per_tensor"},
)
"""Configurations tried in order by ``inc-autotune`` until one is within the tolerable loss."""


def build_inc_autotune(model: nn.Module, ctx: QuantContext) -> Predictor:
    """Neural Compressor accuracy-aware tuning: tries ``DEFAULT_TUNING_SPACE`` until the loss is tolerable.

    ``ctx.eval_fn`` scores a predictor (higher is better). INC hands it uncompiled graphs (reference
    quantize/dequantize ops, slow): keep the evaluation subset small. Every trial is kept in
    ``predictor.trials``; INC's ``tolerable_loss`` is relative (0.01 = 1 % of the FP32 score).
    """
    if ctx.eval_fn is None:
        raise ValueError("inc-autotune needs eval_fn: a function of a predictor returning a score, e.g. mIoU")
    _, StaticQuantConfig, TuningConfig, autotune, _, _ = _inc()
    space = ctx.options.get("tuning_space", DEFAULT_TUNING_SPACE)
    trials: list[dict[str, Any]] = []

    def scored(candidate: Callable) -> float:
        # A converted PT2E graph refuses .eval(); hand the metric a plain function of the images.
        score = float(ctx.eval_fn(lambda images: candidate(images)))
        label = "fp32 baseline" if not trials else str(space[len(trials) - 1])
        trials.append({"trial": len(trials), "config": label, "score": score})
        return score

    # max_trials = the space: when no config is within the tolerance INC then re-quantizes with the best one
    # (with its default of 100 it would run out of configs and return None).
    tuning = TuningConfig(config_set=[StaticQuantConfig(**settings) for settings in space],
                          tolerable_loss=ctx.tolerable_loss, max_trials=len(space))
    graph = _inc_export(model, ctx)
    converted = autotune(graph, tuning, eval_fn=scored, run_fn=lambda m: _calibrate(m, ctx.calib),
                         example_inputs=(ctx.export_example,))
    if converted is None:
        raise RuntimeError("Neural Compressor autotune returned no model; see its log above")
    predictor = _finish("inc-autotune", converted, ctx,
                        f"Neural Compressor autotune over {len(space)} configs, tolerable relative loss {ctx.tolerable_loss}")
    predictor.trials = trials
    return predictor


def load_program(saved: SavedPredictor) -> Predictor:
    """A saved ``.pt2`` program, compiled again; the archive is checked before ``torch.export.load`` opens it."""
    check_pt2_archive(saved.artefact)
    import torchao.quantization.pt2e.quantize_pt2e  # noqa: F401  registers the quantized_decomposed ops

    module = torch.export.load(str(saved.artefact)).module()
    example = torch.zeros(1, 3, *saved.input_size)
    return Predictor(saved.backend, compile_module(module, example), saved.input_size, static_size=True,
                     size_bytes=saved.size_bytes, artefact=saved.artefact, notes=saved.notes, compiled=True)
