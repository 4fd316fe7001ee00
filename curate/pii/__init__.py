"""PII detection for `pii_scrub`: presidio's recognizers, our additions, and a fast pre-screen.

* ``recognizers``: presidio ``PatternRecognizer`` subclasses that fill presidio's gaps (CJK-safe
  anchors, every Luhn-valid card brand and length, CN/JP/EU phones, the Chinese resident id with
  its checksum, street addresses, public-only IPs) and the per-language recognizer sets.
* ``prescreen``: cheap candidate windows, so presidio only ever sees the text that can match.
* ``ner``: spaCy NER for PERSON/LOCATION, batched with ``nlp.pipe`` over name-like windows.
* ``replace``: overlap resolution and the replacement (placeholder, mask, salted hash).
* ``offline``: tldextract on its bundled public-suffix snapshot, never the network.
"""
