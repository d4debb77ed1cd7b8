"""Intel Extension for PyTorch: ``ipex.optimize`` BF16 and IPEX static INT8, where the kernel has IPEX.

IPEX releases are built for one torch minor version each (2.8.x for torch 2.8); in this project's main
environment (torch 2.14) it is absent and these backends report why. Use an environment with the torch
version IPEX was built for to run them.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from lib.quant.base import BackendUnavailable, Predictor, QuantContext, artefact_bytes, make_workdir, state_dict_bytes
from lib.quant.graph import save_state_dict


def require_ipex():
    """The ``intel_extension_for_pytorch`` module, or ``BackendUnavailable`` saying why it cannot be used here."""
    try:
        import intel_extension_for_pytorch as ipex
    except ImportError as err:
        raise BackendUnavailable(
            f"intel_extension_for_pytorch is not importable with torch {torch.__version__} ({err}); "
            "IPEX needs the torch minor version it was built for") from err
    except Exception as err:  # IPEX aborts at import on a torch version it was not built for
        raise BackendUnavailable(f"intel_extension_for_pytorch failed to import: {err}") from err
    return ipex


def build_ipex_bf16(model: nn.Module, ctx: QuantContext) -> Predictor:
    """``ipex.optimize(dtype=bfloat16)`` + BF16 autocast + TorchScript trace and freeze."""
    ipex = require_ipex()
    model = copy.deepcopy(model).eval().to(memory_format=torch.channels_last)
    model = ipex.optimize(model, dtype=torch.bfloat16)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        traced = torch.jit.freeze(torch.jit.trace(model, ctx.example, check_trace=False))
        traced(ctx.example)
    directory, tmp = make_workdir(ctx.out_dir, "ipex-bf16")
    artefact = save_state_dict(model, directory / "model.pt")

    def run(images: torch.Tensor) -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return traced(images.contiguous(memory_format=torch.channels_last))

    return Predictor("ipex-bf16", run, ctx.input_size, static_size=True, size_bytes=artefact_bytes(artefact),
                     artefact=artefact, workdir=tmp, notes="ipex.optimize bf16, TorchScript freeze")


def build_ipex_int8(model: nn.Module, ctx: QuantContext) -> Predictor:
    """IPEX static INT8: ``prepare`` with the default static qconfig, calibrate, ``convert``, trace and freeze."""
    ipex = require_ipex()
    from intel_extension_for_pytorch.quantization import convert, prepare

    model = copy.deepcopy(model).eval()
    prepared = prepare(model, ipex.quantization.default_static_qconfig_mapping, example_inputs=ctx.example, inplace=False)
    with torch.no_grad():
        for batch in ctx.calib:
            prepared(batch)
        traced = torch.jit.freeze(torch.jit.trace(convert(prepared), ctx.example, check_trace=False))
        traced(ctx.example)
    return Predictor("ipex-int8", traced, ctx.input_size, static_size=True, size_bytes=state_dict_bytes(traced),
                     artefact=None, notes="IPEX static INT8 (TorchScript); not saved: TorchScript archives are not a safe "
                     "format; size is that of its state dict")
