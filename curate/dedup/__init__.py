"""The dedup core shared by the dedup stages: connected components over duplicate pairs
(``components``)."""
