"""Optional vLLM backend for generation on GPUs (``pip install 'synthmix[gpu]'``), with the HF path's sampling.

``VllmSampler`` has ``models.generation.HFSampler``'s interface: the same arguments (prompts,
``max_new_tokens``, ``stop``, ``temperature``, ``top_p``, ``greedy``, a random stream) and the same
``Completion`` records. Prompts are tokenised and left-truncated by the HF path's own ``encode_prompts``
and sent as token ids; each completion keeps its token ids and their log-probabilities under the
untempered model (vLLM's ``raw_logprobs``, as the HF path records them for confidence) and is cut by the
HF path's own ``_finish``, so both backends end completions identically and confidence (docs/architecture.md) means
the same thing. The random streams differ: a vLLM stream is a counter of per-request seeds (request i of
a stream opened at seed s is seeded s + i), so reruns reproduce, and samples agree with the HF path in
distribution, not token for token. LoRA artifacts are served as adapters on their base model, never merged.

``choose_backend`` decides which backend a step runs: ``vllm`` when asked for and ``vllm_available()``,
else ``hf`` with a warning the step records in its step log (and so in its manifest).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthmix.errors import StepError

GPU_MEMORY_UTILIZATION = 0.85


def vllm_available() -> bool:
    """Whether vLLM imports and a CUDA device is visible (the condition for choosing this backend)."""
    try:
        import torch
        import vllm  # noqa: F401
    except ImportError:
        return False
    return torch.cuda.is_available()


@dataclass(frozen=True)
class BackendChoice:
    """The backend a study asked for, the one that runs, and why they differ (None when they do not)."""

    requested: str
    used: str
    warning: str | None

    def as_log(self) -> dict[str, Any]:
        """The step-log fields that record it."""
        return {"backend": self.used, "backend_requested": self.requested, "backend_warning": self.warning}


def choose_backend(requested: str, available: bool | None = None) -> BackendChoice:
    """``vllm`` when asked for and available, else ``hf``; a fallback warns (Python warning and the returned text)."""
    if requested != "vllm":
        return BackendChoice(requested, "hf", None)
    if vllm_available() if available is None else available:
        return BackendChoice(requested, "vllm", None)
    message = ("generation.backend is vllm but vLLM or a CUDA device is missing here; sampled with the HF backend "
               "(generate_batch) at the same settings: pip install 'synthmix[gpu]' on a GPU machine to use vLLM")
    warnings.warn(message, RuntimeWarning, stacklevel=2)
    return BackendChoice(requested, "hf", message)


def sampling_params(max_new_tokens: int, stop: Sequence[str] = (), temperature: float = 1.0, top_p: float = 1.0,
                    greedy: bool = False, seed: int | None = None) -> dict[str, Any]:
    """vLLM ``SamplingParams`` keywords equivalent to the HF path's arguments (greedy = temperature 0)."""
    return {
        "n": 1,
        "max_tokens": max_new_tokens,
        "temperature": 0.0 if greedy else temperature,
        "top_p": 1.0 if greedy else top_p,
        "stop": list(stop),
        "include_stop_str_in_output": True,  # cut by _finish, exactly as the HF path cuts
        "logprobs": 0,  # the sampled token's own log-probability
        "seed": seed,
    }


def completions_from_outputs(tokenizer: Any, outputs: Iterable[Any], stop: Sequence[str]) -> list[Any]:
    """``Completion`` records from vLLM ``RequestOutput``s (``.outputs[0].token_ids`` and ``.logprobs``, a list
    of ``{token id: Logprob}`` per generated token), cut at EOS and the first stop string by ``_finish``."""
    from synthmix.models.generation import _finish

    completions = []
    for out in outputs:
        sample = out.outputs[0]
        ids = list(sample.token_ids)
        logprobs = [step[token].logprob for step, token in zip(sample.logprobs, ids, strict=True)]
        completions.append(_finish(tokenizer, ids, logprobs, stop, tokenizer.eos_token_id))
    return completions


def base_model_for_serving(folder: Path) -> tuple[str, str | None]:
    """(model vLLM loads, adapter folder or None): an adapter artifact is served on its base model."""
    from synthmix.models.adapters import adapter_base, is_adapter

    if is_adapter(folder):
        return adapter_base(folder), str(folder)
    return str(folder), None


class SeedStream:
    """A vLLM random stream: hands out consecutive per-request seeds from ``seed``."""

    def __init__(self, seed: int) -> None:
        self.next = seed

    def take(self, n: int) -> list[int]:
        """The seeds of the next ``n`` requests."""
        seeds = list(range(self.next, self.next + n))
        self.next += n
        return seeds


class VllmSampler:
    """One vLLM engine for a model artifact (full weights, or LoRA adapters on their base model)."""

    backend = "vllm"

    def __init__(self, folder: Path, seed: int = 0, gpus: int = 1,
                 gpu_memory_utilization: float = GPU_MEMORY_UTILIZATION) -> None:
        try:
            from vllm import LLM
        except ImportError:
            raise StepError("generation backend 'vllm' needs vLLM and a GPU: pip install 'synthmix[gpu]', "
                            "or set generation.backend: hf") from None
        from synthmix.models.adapters import adapter_rank

        model, adapter = base_model_for_serving(Path(folder))
        self.lora = None
        lora_options: dict[str, Any] = {}
        if adapter is not None:
            from vllm.lora.request import LoRARequest

            self.lora = LoRARequest("synthmix", 1, adapter)
            # vLLM accepts ranks 8, 16, 32, …: the smallest that holds this adapter
            lora_options = {"enable_lora": True, "max_lora_rank": max(8, 1 << (adapter_rank(Path(folder)) - 1).bit_length())}
        self.llm = LLM(model=model, tokenizer=str(folder), dtype="bfloat16", seed=seed, tensor_parallel_size=gpus,
                       gpu_memory_utilization=gpu_memory_utilization, logprobs_mode="raw_logprobs", **lora_options)
        self.tokenizer = self.llm.get_tokenizer()
        self.max_positions = self.llm.llm_engine.model_config.max_model_len

    def stream(self, seed: int) -> SeedStream:
        """A random stream of per-request seeds starting at ``seed``."""
        return SeedStream(seed)

    def generate(self, prompts: Sequence[str], max_new_tokens: int, stop: Sequence[str] = (), temperature: float = 1.0,
                 top_p: float = 1.0, greedy: bool = False, stream: SeedStream | None = None) -> list[Any]:
        """Continue every prompt (one call to the engine); request seeds come from ``stream``."""
        from vllm import SamplingParams

        from synthmix.models.generation import encode_prompts

        seeds = (stream or SeedStream(0)).take(len(prompts))
        params = [SamplingParams(**sampling_params(max_new_tokens, stop, temperature, top_p, greedy, s)) for s in seeds]
        encoded = encode_prompts(self.tokenizer, prompts, self.max_positions, max_new_tokens)
        requests = [{"prompt_token_ids": ids} for ids in encoded]
        outputs = self.llm.generate(requests, params, lora_request=self.lora, use_tqdm=False)
        return completions_from_outputs(self.tokenizer, outputs, stop)

    def close(self) -> None:
        """Free the engine's GPU memory (evaluation loads the HF model afterwards for scoring)."""
        import gc

        import torch

        del self.llm
        gc.collect()
        torch.cuda.empty_cache()


def make_sampler(choice: BackendChoice, folder: Path, model_loader: Any, seed: int = 0) -> Any:
    """The sampler a step uses: ``VllmSampler`` (tensor-parallel over the visible GPUs) for backend vllm, else
    ``HFSampler`` on ``model_loader()``'s model."""
    if choice.used == "vllm":
        import torch

        return VllmSampler(folder, seed=seed, gpus=torch.cuda.device_count())
    from synthmix.models.generation import HFSampler

    model, tokenizer = model_loader()
    return HFSampler(model, tokenizer)
