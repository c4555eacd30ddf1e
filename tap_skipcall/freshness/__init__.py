"""What changes without its call changing still reaches the warehouse.

Child streams are read for the calls a sync writes. Two things change without the call:
recordings and transcriptions that were not final when read (``unfinished.py``: a watch
list, read again each sync until final or a horizon passes), and contacts and sequence
contacts edited on their own (``walk.py``: a walk down the calls list, spread over the
runs of a period, re-reads the contacts and sequences it meets). ``refresher.py`` does the
reading at the end of a sync of calls.
"""
