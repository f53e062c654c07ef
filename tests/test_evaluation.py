"""``synthmix evaluate`` on lm-eval task YAMLs: log-likelihoods and acc/acc_norm by lm-eval's definitions, computed
here independently with transformers (no lm-eval import); bad task files exit 2 naming file, key or row."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from shared_paths import DATA
from typer.testing import CliRunner

from synthmix.cli import app
from synthmix.evaluation import Confidence, evaluate_model, option_choice

SOURCE = DATA / "commonsense" / "hf_schema" / "dev_rand_split.jsonl"
TEXT_OPTIONS = """\
task: csqa_text
dataset_path: json
dataset_kwargs:
  data_files:
    validation: rows.jsonl
validation_split: validation
output_type: multiple_choice
doc_to_text: "Question: {{ question.strip() }}\\nAnswer:"
doc_to_target: "{{ choices.label.index(answerKey) }}"
doc_to_choice: "{{ choices.text }}"
metric_list:
  - metric: acc
  - metric: acc_norm
"""
NUMBERS = """\
task: numbers
dataset_path: json
dataset_kwargs:
  data_files:
    test: rows.jsonl
test_split: test
output_type: generate_until
doc_to_text: "Q: {{question}}\\nA:"
doc_to_target: "{{answer}}"
generation_kwargs:
  until: ["\\n"]
  max_gen_toks: 12
metric_list:
  - metric: exact_match
filter_list:
  - name: number
    filter:
      - function: regex
        regex_pattern: "(-?[0-9]+)"
      - function: take_first
"""


def _yaml(folder: Path, text: str, rows: list[dict] | None = None) -> Path:
    lines = [json.dumps(r) + "\n" for r in rows] if rows is not None else SOURCE.read_text().splitlines(keepends=True)[:8]
    (folder / "rows.jsonl").write_text("".join(lines))
    path = folder / "task.yaml"
    path.write_text(text)
    return path


def _lm_eval_loglik(model, tok, context: str, continuation: str) -> float:
    """lm-eval's definition: move the context's trailing spaces, tokenise the whole, score what follows the context."""
    spaces = len(context) - len(context.rstrip())
    if spaces:
        context, continuation = context[:-spaces], context[-spaces:] + continuation
    whole = tok(context + continuation, add_special_tokens=False)["input_ids"]
    ctx = tok(context, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([whole])).logits[0].double(), -1)
    return float(sum(logp[i - 1, whole[i]] for i in range(len(ctx), len(whole))))


def test_yaml_multiple_choice_logliks_acc_and_acc_norm_follow_lm_eval(tiny_model_dir: Path, tmp_path: Path) -> None:
    from synthmix.models.loading import load_model, load_tokenizer

    scores = evaluate_model(tiny_model_dir, str(_yaml(tmp_path, TEXT_OPTIONS)), tmp_path / "out", batch_size=4)
    rows = [json.loads(line) for line in (tmp_path / "out" / "examples.jsonl").read_text().splitlines()]
    model, tok = load_model(tiny_model_dir).eval(), load_tokenizer(tiny_model_dir)
    acc, acc_norm = [], []
    for line, row in zip(SOURCE.read_text().splitlines()[:8], rows, strict=True):
        doc = json.loads(line)
        choices = doc["choices"]["text"]
        gold = doc["choices"]["label"].index(doc["answerKey"])
        lls = np.array([_lm_eval_loglik(model, tok, f"Question: {doc['question'].strip()}\nAnswer:", " " + c)
                        for c in choices])
        assert row["logliks"] == pytest.approx(lls.tolist(), abs=1e-4)
        acc.append(int(np.argmax(lls)) == gold)
        acc_norm.append(int(np.argmax(lls / np.array([len(c) for c in choices]))) == gold)
        assert row["prediction"] == choices[int(np.argmax(lls))]
    assert scores["acc"] == scores["accuracy"] == pytest.approx(np.mean(acc))
    assert scores["acc_norm"] == pytest.approx(np.mean(acc_norm))
    assert scores["n_eval"] == 8 and scores["unparsed_rate"] == 0.0


def test_option_choice_normalises_by_characters_and_tokens_and_scores_the_sum_pick() -> None:
    pick = option_choice([-4.0, -6.0, -9.0], n_chars=[2, 12, 3], n_tokens=[1, 6, 3])
    assert (pick.summed, pick.by_chars, pick.by_tokens) == (0, 1, 1)
    per_token = np.array([-4.0, -1.0, -3.0])
    assert pick.confidence == pytest.approx(float(np.exp(per_token[0]) / np.exp(per_token).sum()))


def test_generated_yaml_counts_unparsed_answers_apart(tiny_model_dir: Path, tmp_path: Path) -> None:
    rows = [{"question": f"{a} plus {b}", "answer": str(a + b)} for a, b in [(1, 2), (3, 4), (5, 6), (7, 8)]]
    scores = evaluate_model(tiny_model_dir, str(_yaml(tmp_path, NUMBERS, rows)), tmp_path / "out", batch_size=4,
                            confidence=Confidence("self_consistency", 2, 1.0, 1.0))
    out = [json.loads(line) for line in (tmp_path / "out" / "examples.jsonl").read_text().splitlines()]
    assert [r["prompt"] for r in out] == [f"Q: {r['question']}\nA:" for r in rows]
    for r in out:
        assert r["parsed"] == (r["extracted"] is not None) == (r["confidence"] is not None)
        assert "\n" not in r["generation"]
        assert not r["parsed"] or r["confidence"] in (0.0, 0.5, 1.0)
    assert scores["unparsed_rate"] == pytest.approx(sum(not r["parsed"] for r in out) / 4)
    assert scores["exact_match"] == pytest.approx(sum(r["correct"] for r in out) / 4)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t + "doc_to_texts: x\n", "unknown key 'doc_to_texts'"),
    (lambda t: t.replace("validation: rows.jsonl", "validation: gone.jsonl"), "data_files.validation: .*gone.jsonl does not exist"),
    (lambda t: t.replace("question.strip()", "query"), "row 0 of .*rows.jsonl: doc_to_text: .*'query' is undefined"),
])
def test_cli_evaluate_bad_task_yaml_exits_2_naming_it(tmp_path: Path, edit, message: str) -> None:
    path = _yaml(tmp_path, edit(TEXT_OPTIONS))
    result = CliRunner().invoke(app, ["evaluate", "--model", str(tmp_path / "no-model"), "--task", str(path),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    import re

    assert re.search(message, " ".join(result.output.split())), result.output


LETTERS = """\
task: csqa_letters
dataset_path: json
dataset_kwargs:
  data_files:
    validation: rows.jsonl
validation_split: validation
output_type: multiple_choice
doc_to_text: "Question: {{ question.strip() }}\\nA. {{choices['text'][0]}}\\nB. {{choices['text'][1]}}\\nC. {{choices['text'][2]}}\\nD. {{choices['text'][3]}}\\nE. {{choices['text'][4]}}\\nAnswer:"
doc_to_target: answerKey
doc_to_choice: ['A', 'B', 'C', 'D', 'E']
metric_list:
  - metric: acc
"""


def test_builtin_commonsense_prompt_format_lm_eval_equals_lm_evals_yaml(tiny_model_dir: Path, tmp_path: Path) -> None:
    yaml_scores = evaluate_model(tiny_model_dir, str(_yaml(tmp_path, LETTERS)), tmp_path / "yaml", batch_size=8)
    options = {"data_dir": str(DATA / "commonsense"), "hub": False, "prompt_format": "lm-eval"}
    builtin = evaluate_model(tiny_model_dir, "commonsense", tmp_path / "builtin", options=options, limit=8, batch_size=8)
    rows = {name: [json.loads(line) for line in (tmp_path / name / "examples.jsonl").read_text().splitlines()]
            for name in ("yaml", "builtin")}
    for a, b in zip(rows["yaml"], rows["builtin"], strict=True):
        assert a["logliks"] == pytest.approx(b["logliks"], abs=1e-5)
        assert a["prediction"] == b["prediction"] and a["correct"] == b["correct"]
    assert yaml_scores["acc"] == builtin["accuracy"]
