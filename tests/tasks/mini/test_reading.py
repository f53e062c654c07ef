from synthmix.tasks import get_task
from synthmix.tasks.mini.reading import SLOTS, answer_text, question_slot


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
                assert SLOTS[question_slot(ex["question"])][2] not in ex["context"]
    assert 0.15 < n_unanswerable / 1400 < 0.5


def test_answer_text_unanswerable_is_empty():
    assert answer_text(" Unanswerable\n") == "" and answer_text(" Drumin ") == "Drumin"
