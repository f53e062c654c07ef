import pytest

from synthmix.tasks import get_task

MINI = ["mini-math", "mini-commonsense", "mini-factual", "mini-reading", "mini-code"]
SMALL = {"n_train": 40, "n_validation": 10, "n_test": 30}


@pytest.fixture(scope="session", params=MINI)
def task(request):
    return get_task(request.param, seed=0, **SMALL)
