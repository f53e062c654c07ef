"""Optional vLLM backend for generation on GPUs (``pip install 'synthmix[gpu]'``), with the HF path's sampling.

``generate_batch_vllm`` takes the same arguments as ``models.generation.generate_batch`` (prompts,
``max_new_tokens``, ``stop``, ``temperature``, ``top_p``, ``greedy``, a seed) and returns the same
``Completion`` records: text cut at the first stop string, the kept token ids and their log-probabilities
under the untempered model (vLLM's ``raw_logprobs``, as the HF path records them for confidence), cut by the
HF path's own ``_finish`` so both backends end completions identically. The random streams differ (vLLM
seeds each request), so samples agree in distribution, not token for token. LoRA artifacts are served as
adapters on their base model, never merged. Nothing else in synthmix imports this module; without vLLM
(or without a GPU) the steps use ``generate_batch``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from synthmix.errors import StepError


def vllm_available() -> bool:
    """Whether vLLM imports and a CUDA device is visible (the condition for choosing this backend)."""
    try:
        import torch
        import vllm  # noqa: F401
    except ImportError:
        return False
    return torch.cuda.is_available()


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


class VllmGenerator:
    """One vLLM engine for a model artifact (full weights, or LoRA adapters on their base model)."""

    def __init__(self, folder: Path, seed: int = 0, gpus: int = 1, gpu_memory_utilization: float = 0.85) -> None:
        try:
            from vllm import LLM
        except ImportError:
            raise StepError("generation backend 'vllm' needs vLLM and a GPU: pip install 'synthmix[gpu]', "
                            "or set generation.backend: hf") from None
        from synthmix.models.adapters import adapter_base, is_adapter

        self.lora = None
        model = str(folder)
        if is_adapter(folder):
            from vllm.lora.request import LoRARequest

            model = adapter_base(folder)
            self.lora = LoRARequest("synthmix", 1, str(folder))
        self.llm = LLM(model=model, dtype="bfloat16", seed=seed, tensor_parallel_size=gpus,
                       gpu_memory_utilization=gpu_memory_utilization, enable_lora=self.lora is not None,
                       logprobs_mode="raw_logprobs")
        self.tokenizer = self.llm.get_tokenizer()

    def generate(self, prompts: Sequence[str], max_new_tokens: int, stop: Sequence[str] = (),
                 temperature: float = 1.0, top_p: float = 1.0, greedy: bool = False, seed: int = 0) -> list[Any]:
        """Continue every prompt; request i is seeded with ``seed + i`` so reruns reproduce."""
        from vllm import SamplingParams

        from synthmix.models.generation import _finish

        params = [SamplingParams(**sampling_params(max_new_tokens, stop, temperature, top_p, greedy, seed + i))
                  for i in range(len(prompts))]
        outputs = self.llm.generate(list(prompts), params, lora_request=self.lora, use_tqdm=False)
        completions = []
        for out in outputs:
            sample = out.outputs[0]
            ids = list(sample.token_ids)
            logprobs = [step[token].logprob for step, token in zip(sample.logprobs, ids, strict=True)]
            completions.append(_finish(self.tokenizer, ids, logprobs, stop, self.tokenizer.eos_token_id))
        return completions


def generate_batch_vllm(generator: VllmGenerator, prompts: Sequence[str], max_new_tokens: int,
                        stop: Sequence[str] = (), temperature: float = 1.0, top_p: float = 1.0,
                        greedy: bool = False, seed: int = 0) -> list[Any]:
    """``generate_batch``'s contract on vLLM: same arguments (a seed instead of a torch generator), same records."""
    return generator.generate(prompts, max_new_tokens, stop, temperature, top_p, greedy, seed)
