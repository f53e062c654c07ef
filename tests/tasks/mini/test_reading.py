from synthmix.tasks import get_task
import re

from synthmix.tasks.mini.reading import SLOTS, answer_text, question_slot, states_slot


def test_load_every_answer_start_points_at_its_text_and_unanswerables_lack_the_slot():
    task = get_task("mini-reading", seed=0, n_train=300, n_validation=100, n_test=1000)
    n_unanswerable = 0
    for split in task.splits:
        for ex in task.load(split):
            texts, starts = ex["answers"]["text"], ex["answers"]["answer_start"]
            for text, start in zip(texts, starts, strict=True):
                assert ex["context"][start:start + len(text)] == text
            if not texts:
                n_unanswerable += 1
                assert not states_slot(ex["context"], question_slot(ex["question"]))
    assert 0.15 < n_unanswerable / 1400 < 0.5


def test_answer_text_unanswerable_is_empty():
    assert answer_text(" Unanswerable\n") == "" and answer_text(" Drumin ") == "Drumin"


def test_load_answer_spans_start_at_the_cue_that_occurs_once_in_the_passage():
    task = get_task("mini-reading", seed=0, n_train=300, n_validation=100, n_test=200)
    for ex in task.load("train") + task.load("validation"):
        for text in ex["answers"]["text"]:
            cue = SLOTS[question_slot(ex["question"])][2]
            assert text.startswith(cue + " ") and len(text) > len(cue) + 1
            assert len(re.findall(rf"\b{cue}\b", ex["context"])) == 1


def test_states_slot_ignores_the_cue_inside_an_invented_name():
    assert states_slot("The river Tolmu flows through the town.", "river")
    assert not states_slot("Its mayor is Rivera Toll. Doriver lies near.", "river")
