"""A study whose task is a task YAML over local JSONL files runs end to end with no Python written."""

from __future__ import annotations

import json
import random
import textwrap
from pathlib import Path

import pytest

from synthmix.config import load_study
from synthmix.driver import open_db, run_study
from synthmix.executors.local import LocalExecutor

TASK = """\
task: add
dataset_path: json
dataset_kwargs:
  data_files: {train: train.jsonl, validation: validation.jsonl, test: test.jsonl}
training_split: train
validation_split: validation
test_split: test
output_type: generate_until
doc_to_text: "Question: {{question}}\\nAnswer:"
doc_to_target: "{{answer}}"
generation_kwargs: {until: ["\\n\\n", "Question:"], max_gen_toks: 16}
metric_list:
  - metric: exact_match
    regexes_to_ignore: ["(?s).*#### "]
filter_list:
  - name: strict-match
    filter:
      - {function: regex, regex_pattern: "#### (\\\\-?[0-9]+)"}
      - {function: take_first}
"""

STUDY = """
name: yaml-micro
blocks:
  - name: main
    models: [mini-120k]
    tasks: [{task}]
    shares: [0.0, 0.5]
    iterations: [0, 1]
    regimes: [remove]
pretrain: {{token_budget: 20000}}
training: {{epochs: 2, lr: 1.0e-2, batch_size: 8, warmup_ratio: 0.1, max_length: 64, loss_on: all}}
generation: {{batch_size: 32, n_shots: 1, max_new_tokens: 24}}
mixing: {{n: 32, attempt_cap: 2}}
evaluation: {{n_eval: 16, batch_size: 16, diversity_n: 8, perplexity_n: 8, consistency_k: 2}}
store: store
"""


@pytest.mark.slow  # ~20 s on 2 shared cores: pretrain, 3 fine-tunes, 3 evaluations
def test_study_over_a_task_yaml_runs_and_scores_exact_match(tmp_path: Path) -> None:
    rnd = random.Random(0)
    for split, n in (("train", 48), ("validation", 8), ("test", 16)):
        pairs = [(rnd.randint(1, 9), rnd.randint(1, 9)) for _ in range(n)]
        (tmp_path / f"{split}.jsonl").write_text("".join(
            json.dumps({"question": f"What is {a} plus {b}?", "answer": f"{a} + {b} = {a + b}\n#### {a + b}"}) + "\n"
            for a, b in pairs))
    (tmp_path / "add.yaml").write_text(TASK)
    path = tmp_path / "study.yaml"
    path.write_text(textwrap.dedent(STUDY.format(task=tmp_path / "add.yaml")))
    study = load_study(path)
    summary = run_study(study, LocalExecutor(jobs=2))
    assert not summary.failed and not summary.skipped, summary.failed
    db = open_db(study)
    try:
        scores = db.frame("scores")
    finally:
        db.close()
    em = scores[scores.metric == "exact_match"]
    assert len(em) == 3 and set(em.iteration) == {0, 1}
    assert {"unparsed_rate", "n_calibrated", "perplexity"} <= set(scores.metric)


def test_relative_task_yaml_resolves_against_the_study_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tasks").mkdir()
    for split in ("train", "validation", "test"):
        (tmp_path / "tasks" / f"{split}.jsonl").write_text(
            json.dumps({"question": "What is 1 plus 2?", "answer": "1 + 2 = 3\n#### 3"}) + "\n")
    (tmp_path / "tasks" / "add.yaml").write_text(TASK)
    path = tmp_path / "study.yaml"
    path.write_text(textwrap.dedent(STUDY.format(task="tasks/add.yaml")))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    study = load_study(path)
    assert study.blocks[0].tasks == [str(tmp_path.resolve() / "tasks" / "add.yaml")]
