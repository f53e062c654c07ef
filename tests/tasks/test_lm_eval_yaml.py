"""lm-eval task YAMLs: lm-eval's resolution of doc_to_*, its filters and exact_match, and errors naming file, key, row."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from synthmix.errors import ConfigError, DataError
from synthmix.tasks.lm_eval_yaml import load_task_yaml
from shared_paths import DATA

SOURCE = DATA / "commonsense" / "hf_schema" / "dev_rand_split.jsonl"
CSQA = Path("csqa20.jsonl")  # the first 20 rows, written next to each test's YAML (never into the repo)

# lm-eval 0.4.13's commonsense_qa/default.yaml with the data pointed at the local file
LETTERS = f"""\
task: csqa_letters
dataset_path: json
dataset_kwargs:
  data_files:
    validation: {CSQA}
validation_split: validation
output_type: multiple_choice
doc_to_text: "Question: {{{{ question.strip() }}}}\\nA. {{{{choices['text'][0]}}}}\\nB. {{{{choices['text'][1]}}}}\\nC. {{{{choices['text'][2]}}}}\\nD. {{{{choices['text'][3]}}}}\\nE. {{{{choices['text'][4]}}}}\\nAnswer:"
doc_to_target: answerKey
doc_to_choice: ['A', 'B', 'C', 'D', 'E']
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
"""

GSM8K_FILTERS = """\
task: gsm_local
dataset_path: json
dataset_kwargs:
  data_files:
    test: rows.jsonl
test_split: test
output_type: generate_until
doc_to_text: "Question: {{question}}\\nAnswer:"
doc_to_target: "{{answer}}"
metric_list:
  - metric: exact_match
    ignore_case: true
    ignore_punctuation: false
    regexes_to_ignore: [",", "\\\\$", "(?s).*#### ", "\\\\.$"]
generation_kwargs:
  until: ["Question:", "</s>"]
  do_sample: false
  temperature: 0.0
filter_list:
  - name: strict-match
    filter:
      - function: regex
        regex_pattern: "#### (\\\\-?[0-9\\\\.\\\\,]+)"
      - function: take_first
  - name: flexible-extract
    filter:
      - function: regex
        group_select: -1
        regex_pattern: "(-?[$0-9.,]{2,})|(-?[0-9]+)"
      - function: take_first
"""


def _write(folder: Path, text: str, name: str = "task.yaml") -> Path:
    (folder / CSQA).write_text("".join(SOURCE.read_text().splitlines(keepends=True)[:20]))
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def _gsm(tmp_path: Path, rows: list[dict]) -> Path:
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return _write(tmp_path, GSM8K_FILTERS)


def test_letters_yaml_renders_lm_evals_prompt_and_gold_index(tmp_path: Path) -> None:
    task = load_task_yaml(_write(tmp_path, LETTERS))
    first = json.loads(SOURCE.read_text().splitlines()[0])
    ex = task.load("validation")[0]
    texts = first["choices"]["text"]
    assert task.prompt(ex) == (f"Question: {first['question'].strip()}\nA. {texts[0]}\nB. {texts[1]}\nC. {texts[2]}\n"
                               f"D. {texts[3]}\nE. {texts[4]}\nAnswer:")
    assert task.choices(ex) == [" A", " B", " C", " D", " E"]
    assert task.gold_index(ex) == "ABCDE".index(first["answerKey"])
    assert len(task.load("validation")) == 20 and task.eval_split == "validation"


def test_template_targets_and_choices_resolve_like_lm_eval(tmp_path: Path) -> None:
    text = LETTERS.replace("doc_to_target: answerKey", "doc_to_target: \"{{ choices.label.index(answerKey) }}\"")
    text = text.replace("doc_to_choice: ['A', 'B', 'C', 'D', 'E']", "doc_to_choice: \"{{ choices.text }}\"")
    task = load_task_yaml(_write(tmp_path, text))
    first = json.loads(SOURCE.read_text().splitlines()[0])
    ex = task.load("validation")[0]
    assert task.doc_to_target(ex) == first["choices"]["label"].index(first["answerKey"])  # "0" → 0, as lm-eval
    assert task.doc_to_choice(ex) == first["choices"]["text"]


def test_gsm8k_filters_and_exact_match_follow_lm_eval(tmp_path: Path) -> None:
    task = load_task_yaml(_gsm(tmp_path, [{"question": "q", "answer": "2 + 2 = 4\n#### 1,234"}]))
    ex = task.load("test")[0]
    strict, flexible = task.filters
    assert strict.apply("so #### 1,234.") == "1,234." and flexible.apply("a 12 then $1,234.") == "$1,234."
    assert strict.apply("no marker 1234") == "[invalid]" and flexible.apply("just 7") == "7"
    assert task.exact_match("so #### 1,234.", ex) and task.exact_match("a 12 then $1,234.", ex, flexible)
    assert not task.exact_match("no marker 1234", ex)  # strict-match: [invalid]
    assert task.extract("no marker 1234") is None and task.extract("#### 5") == "5"
    assert task.generation.stop == ("Question:", "</s>") and task.generation.max_new_tokens == 256


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, LETTERS + "doc_to_texts: oops\n")
    with pytest.raises(ConfigError, match=r"task\.yaml: unknown key 'doc_to_texts'"):
        load_task_yaml(path)


def test_python_function_is_refused_by_key(tmp_path: Path) -> None:
    path = _write(tmp_path, LETTERS + "process_results: !function utils.process\n")
    with pytest.raises(ConfigError, match="process_results"):
        load_task_yaml(path)


def test_missing_data_file_names_the_split_and_path(tmp_path: Path) -> None:
    path = _write(tmp_path, LETTERS.replace(str(CSQA), "nowhere.jsonl"))
    with pytest.raises(DataError, match=r"data_files\.validation: .*nowhere\.jsonl does not exist"):
        load_task_yaml(path).load("validation")


def test_template_field_missing_in_every_row_names_row_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, LETTERS.replace("question.strip()", "query.strip()"))
    with pytest.raises(DataError, match=r"split 'validation' row 0 of .*csqa20\.jsonl: doc_to_text: .*'query' is undefined"):
        load_task_yaml(path).load("validation")


def test_row_without_the_target_field_is_named(tmp_path: Path) -> None:
    rows = [{"question": "a", "answer": "#### 1"}, {"question": "b"}]
    with pytest.raises(DataError, match=r"split 'test' row 1 of .*rows\.jsonl: doc_to_target: .*'answer' is undefined"):
        load_task_yaml(_gsm(tmp_path, rows)).load("test")


def test_unsupported_metric_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, LETTERS.replace("metric: acc", "metric: mcc"))
    with pytest.raises(ConfigError, match=r"metric_list\[0\]\.metric 'mcc' is not supported"):
        load_task_yaml(path)


def test_fewshot_context_joins_shots_like_lm_eval(tmp_path: Path) -> None:
    rows = [{"question": f"q{i}", "answer": f"#### {i}"} for i in range(6)]
    text = GSM8K_FILTERS.replace("    test: rows.jsonl", "    test: rows.jsonl\n    train: rows.jsonl")
    task = load_task_yaml(_write(tmp_path, text.replace("test_split: test", "test_split: test\ntraining_split: train")))
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    docs = task.load("test")
    shots = task.fewshot_draws(docs[:2], 2, "test")
    import random

    rnd = random.Random(1234)
    assert shots[0] == rnd.sample(task.load("train"), 2) and shots[1] == rnd.sample(task.load("train"), 2)
    ctx = task.context(docs[0], 2, shots[0])
    assert ctx == "".join(f"Question: {d['question']}\nAnswer: {d['answer']}\n\n" for d in shots[0]) + "Question: q0\nAnswer:"


def test_written_example_is_read_back_through_the_templates(tmp_path: Path) -> None:
    from synthmix.tasks import ParseFailure, get_task

    rows = [{"question": "Tom has 3 apples and buys 4. How many?", "answer": "3 + 4 = 7\n#### 7"}]
    task = get_task(str(_gsm(tmp_path, rows)))
    ex = task.load("test")[0]
    assert task.parse_synthetic(task.format_train(ex)) == ex
    prompt = task.synthesis_prompt([ex, ex])
    assert task.format_train(ex) == "Question: Tom has 3 apples and buys 4. How many?\nAnswer: 3 + 4 = 7\n#### 7\n\n"
    assert prompt == task.format_train(ex) * 2 + "Question:"
    written = " Ann has 2 pens.\nAnswer: 2 pens\n#### 2"  # the model continues after "Question:"
    assert task.parse_synthetic("Question:" + written) == {"question": "Ann has 2 pens.", "answer": "2 pens\n#### 2"}
    assert isinstance(task.parse_synthetic("no template here"), ParseFailure)
    assert task.synthesis_generation.stop == ("\n\n",)
    assert not task.has_verifier and task.verify(ex) is None


def test_task_yaml_identity_follows_its_text_and_takes_no_options(tmp_path: Path) -> None:
    from synthmix.tasks import get_task

    path = _gsm(tmp_path, [{"question": "q", "answer": "#### 1"}])
    before = get_task(str(path)).version
    path.write_text(path.read_text().replace("max_gen_toks", "max_gen_toks") + "num_fewshot: 0\n")
    assert get_task(str(path)).version != before
    with pytest.raises(ConfigError, match="takes no options"):
        get_task(str(path), n_train=3)


def test_synthmix_keys_verifier_template_and_f1(tmp_path: Path) -> None:
    from synthmix.tasks import get_task

    rows = [{"question": "Who wrote it?", "answer": "the old man"}]
    extra = ('synthmix:\n  verifier: "builtins:bool"\n'
             '  synthesis_template: "{% for s in shots %}{{ s }}{% endfor %}Write one more.\\nQuestion:"\n')
    text = GSM8K_FILTERS.replace("metric: exact_match", "metric: f1").split("filter_list:")[0] + extra
    task = get_task(str(_write_rows(tmp_path, text, rows)))
    ex = task.load("test")[0]
    assert task.has_verifier and task.verify(ex) is True and task.verify({}) is False
    assert task.synthesis_prompt([ex]) == task.format_train(ex) + "Write one more.\nQuestion:"
    assert task.info.primary_metric == "f1" and task.score("old man", ex) == pytest.approx(1.0)  # articles dropped
    assert task.score("the young man", ex) == pytest.approx(0.5)
    with pytest.raises(ConfigError, match="synthmix.verifier: cannot import"):
        load_task_yaml(_write_rows(tmp_path, text.replace("builtins:bool", "nowhere:fn"), rows))
    with pytest.raises(ConfigError, match=r"synthmix: unknown key\(s\) \['parser'\]"):
        load_task_yaml(_write_rows(tmp_path, text + "  parser: x\n", rows))


def _write_rows(folder: Path, text: str, rows: list[dict]) -> Path:
    (folder / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return _write(folder, text)
