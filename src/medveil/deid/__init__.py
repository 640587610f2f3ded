"""medveil.deid: the header de-identification engine and its parts.

The entry points are :class:`~medveil.deid.engine.Deidentifier` (compile a
policy once, run it on many datasets) and :func:`~medveil.deid.engine.deidentify`
(one dataset, one call). Submodules are imported on demand, so that importing
one part (say, :mod:`medveil.deid.pseudonyms` in a worker) stays cheap.
"""
