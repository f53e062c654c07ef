"""SQuAD 2.0's loader and scorer on fixtures this project writes in the official dev-v2.0.json schema (the dev file is not available offline)."""

import json

import pytest

from synthmix.errors import DataError
from synthmix.tasks import ParseFailure, get_task

CONTEXT_1 = "The Harbour Bridge opened in 1932. It was designed by Ralph Freeman and carries eight lanes."
CONTEXT_2 = "Marrow is a soft tissue inside bones. Red marrow makes blood cells."
# written for these tests in the exact schema of the official dev-v2.0.json (several annotator answers, duplicates, impossible questions)
DEV = {
    "version": "v2.0",
    "data": [
        {"title": "Harbour_Bridge", "paragraphs": [{"context": CONTEXT_1, "qas": [
            {"question": "When did the bridge open?", "id": "q1", "is_impossible": False,
             "answers": [{"text": "1932", "answer_start": 29}, {"text": "in 1932", "answer_start": 26}, {"text": "1932", "answer_start": 29}]},
            {"question": "Who designed the bridge?", "id": "q2", "is_impossible": False,
             "answers": [{"text": "Ralph Freeman", "answer_start": 54}]},
            {"question": "Who painted the bridge?", "id": "q3", "is_impossible": True, "answers": [],
             "plausible_answers": [{"text": "Ralph Freeman", "answer_start": 54}]},
        ]}]},
        {"title": "Bone_marrow", "paragraphs": [{"context": CONTEXT_2, "qas": [
            {"question": "What does red marrow make?", "id": "q4", "is_impossible": False,
             "answers": [{"text": "blood cells", "answer_start": 55}, {"text": "blood cells.", "answer_start": 55}]},
            {"question": "What does yellow marrow make?", "id": "q5", "is_impossible": True, "answers": [],
             "plausible_answers": [{"text": "blood cells", "answer_start": 55}]},
        ]}]},
    ],
}


@pytest.fixture
def task(tmp_path):
    (tmp_path / "dev-v2.0.json").write_text(json.dumps(DEV))
    return get_task("reading", data_dir=tmp_path)


def test_fixture_answer_starts_point_at_their_text():
    for article in DEV["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                for answer in qa["answers"] + qa.get("plausible_answers", []):
                    assert paragraph["context"][answer["answer_start"]:][: len(answer["text"])] == answer["text"]


def test_official_file_flattens_in_order_with_empty_answers_for_impossible(task):
    rows = task.load(task.eval_split)
    assert task.eval_split == "validation" and [r["id"] for r in rows] == ["q1", "q2", "q3", "q4", "q5"]
    assert rows[0]["answers"] == {"text": ["1932", "in 1932", "1932"], "answer_start": [29, 26, 29]}
    assert rows[2]["answers"] == {"text": [], "answer_start": []} and rows[2]["title"] == "Harbour_Bridge"
    assert [p.name for p in task.data_files()] == ["dev-v2.0.json"]


def test_hf_parquet_layout_loads_identical_records(task, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    hub = tmp_path / "hub"
    (hub / "squad_v2").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(task.load("validation")), hub / "squad_v2" / "validation-00000-of-00001.parquet")
    assert get_task("reading", data_dir=hub).load("validation") == task.load("validation")


def test_oracle_scores_one_and_fixed_answers_score_the_official_baselines(task):
    rows = task.load("validation")
    assert [task.score(task.reference(r), r) for r in rows] == [1.0] * 5
    assert [task.correct(task.reference(r), r) for r in rows] == [True] * 5
    assert [task.score(" Sydney", r) for r in rows] == [0.0] * 5
    assert [task.score(" unanswerable", r) for r in rows] == [0.0, 0.0, 1.0, 0.0, 1.0]  # the "no answer" baseline = share of impossible


def test_scores_follow_the_official_rules(task):
    q1, q2, _, q4, q5 = task.load("validation")
    assert task.score(" The 1932!", q1) == 1.0 and task.correct(" in 1932", q1)
    assert task.score(" Freeman", q2) == pytest.approx(2 / 3) and not task.correct(" Freeman", q2)
    assert task.score(" blood", q4) == pytest.approx(2 / 3)
    assert task.score("", q5) == 1.0 and task.score(" blood cells", q5) == 0.0


def test_wrong_version_is_a_data_error(tmp_path):
    (tmp_path / "dev-v2.0.json").write_text(json.dumps({**DEV, "version": "1.1"}))
    with pytest.raises(DataError, match="v2.0"):
        get_task("reading", data_dir=tmp_path).load("validation")


def test_no_data_anywhere_names_squad_and_both_ways():
    with pytest.raises(DataError, match=r"SQuAD 2.0 \(squad_v2\) split 'validation'.*dev-v2.0.json.*load_dataset\('squad_v2'"):
        get_task("reading", hub=False).load("validation")


def test_parse_synthetic_and_verify(task):
    rows = task.load("validation")
    answerable = task.parse_synthetic(task.format_train(rows[1]))
    assert answerable["answers"] == {"text": ["Ralph Freeman"], "answer_start": [54]} and task.verify(answerable)
    impossible = task.parse_synthetic(task.format_train(rows[2]))
    assert impossible["answers"] == {"text": [], "answer_start": []} and task.verify(impossible) is False
    assert task.verify(dict(rows[1], answers={"text": ["Ralph Freeman"], "answer_start": [3]})) is False
    assert isinstance(task.parse_synthetic("Passage only"), ParseFailure)
