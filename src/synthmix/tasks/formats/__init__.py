"""Record formats shared by each real benchmark task and its mini twin (prompt, target, synthesis, parsing, scoring).

One module per dataset layout: ``nq_open`` (factual), ``squad`` (reading), ``gsm8k`` (math),
``commonsense_qa`` (commonsense), ``humaneval`` (code). Each holds a mixin that the real task and
the mini task both inherit, so the two cannot drift apart; data loading, splits and the mini world
stay in the task modules.
"""
