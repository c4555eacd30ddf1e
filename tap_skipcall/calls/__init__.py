"""The calls stream and its no-loss incremental sync, one concern a module.

To follow one sync of calls, read in this order: ``stream.py`` (the SDK's hooks), ``pager.py``
(what to write and read next, page by page), ``position.py`` (where a sync stands),
``order.py``, ``resume.py`` and ``batches.py`` (its three concerns), ``state.py`` (what is
saved between runs) and ``rows.py`` (the values it reads).
"""
