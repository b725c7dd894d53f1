"""Benchmark and load commands, apart from the apps: each is `python -m bench.<name>`.

    load       the annotator site under simulated crowds (gunicorn, PostgreSQL), with durability checks
    clip       the worker's pipeline against the model's raw forward rate and transformers' pipeline
    alignment  the report's statistics: vectorised bootstrap and kappas against per-call loops
    images     what an annotator downloads per artwork: original file against display derivative

`bench.server` starts gunicorn in the production profile on loopback, for `bench.load` and the tests'
server processes. These modules import the apps; no app imports them.
"""
