"""What changes without its call changing still reaches the warehouse.

Child streams are read for the calls a sync writes. Two things change without the call:
recordings and transcriptions that were not final when read (``unfinished.py``: a watch
list, read again each sync until final or a horizon passes), sequence contacts moving on
(``rotation.py``: sequences re-read oldest first, a share each run) and contacts edited by
a CRM (``walk.py``: a walk down the calls list, spread over the runs of a period, re-reads
the contacts it meets). ``refresher.py`` does the reading at the end of a sync of calls.
"""
