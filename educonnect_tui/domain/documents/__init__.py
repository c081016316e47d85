"""The documents a (re)notification hands out, and the files every export is written to.

``slips`` (pupils' class lists and slips), ``letters`` (guardians' letters) and
``mail_merge`` (their CSVs) are drawn with the ``pdf`` and ``spreadsheet`` primitives
and written through ``files``; the rows they print are ``credentials``.
"""
