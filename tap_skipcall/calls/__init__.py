"""The calls sync: the no-loss incremental read of ``GET /v1/calls``, one concern a module.

To follow one sync of calls, read in this order:

1. ``tap_skipcall/streams/calls.py``: the SDK stream, which composes a run and hands it
   every SDK hook;
2. ``sync.py``: the run (``CallsSync``), from the first page to the final bookmark, built
   from the parts below;
3. ``reconcile.py`` (what kind of run: incremental, backfill, reconciliation),
   ``state_keeper.py`` (the one owner of the calls state: RECORD or BATCH, checkpoints),
   ``list_client.py`` (probes, pages by number, the pace) and ``fan_out.py`` (which
   children of a call read);
4. ``pager.py`` (what to write and read next, page by page) over ``position.py`` (where a
   read stands), with its concerns ``order.py``, ``resume.py`` and ``batches.py``;
5. ``state.py`` (what is saved between runs) and ``rows.py`` (the values it reads).

Nothing here imports :mod:`tap_skipcall.freshness`: what a sync refreshes afterwards is
handed in as a function by the stream.
"""
