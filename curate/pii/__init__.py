"""PII detection for `pii_scrub`: presidio's recognizers, our additions, and a fast pre-screen.

* ``recognizers``: presidio ``PatternRecognizer`` subclasses that fill presidio's gaps (CJK-safe
  anchors, every Luhn-valid card brand and length, CN/JP/EU phones, the Chinese resident id with
  its checksum, street addresses, public-only IPs), presidio's national ids made CJK-safe (UK
  NINO, Spanish NIF/NIE, Italian fiscal code, Korean RRN) and the per-language recognizer sets.
* ``prescreen``: cheap candidate windows, so presidio only ever sees the text that can match.
* ``ner``: spaCy NER for PERSON/LOCATION, batched with ``nlp.pipe`` over name-like windows,
  and ``LazyNer``, the base of every NER (built once per worker, an unavailable one remembered).
* ``names``: Latin-script PERSON from given-name lexicons (gender-guesser's and nomquamgender's
  data) and titles.
* ``zh_ner``, ``ja_ner``, ``ko_ner``: Chinese (jieba), Japanese (fugashi + unidic-lite) and
  Korean (Kiwi) PERSON/LOCATION from part-of-speech tags, filtered to the shape of a name.
* ``replace``: overlap resolution and the replacement (placeholder, mask, salted hash).
* ``offline``: tldextract on its bundled public-suffix snapshot, never the network.
"""

# Entity names: what pii_counts fields and placeholders are called. Kept here, away from
# presidio's heavy import, so configs can be checked without loading it.
PATTERN_ENTITIES = (
    "EMAIL",
    "PHONE",
    "CREDIT_CARD",
    "IP_ADDRESS",
    "IBAN",
    "US_SSN",
    "UK_NINO",
    "ES_NIF",
    "ES_NIE",
    "IT_FISCAL_CODE",
    "KR_RRN",
    "CN_ID",
    "DE_TAX_ID",
    "FR_NIR",
    "NL_BSN",
    "JP_MY_NUMBER",
    "STREET_ADDRESS",
    "URL",
)
NER_ENTITIES = ("PERSON", "LOCATION")
ALL_ENTITIES = PATTERN_ENTITIES + NER_ENTITIES
# URL only where asked for: links in web text are rarely personal
DEFAULT_PATTERN_ENTITIES = tuple(e for e in PATTERN_ENTITIES if e != "URL")
DEFAULT_ENTITIES = DEFAULT_PATTERN_ENTITIES + NER_ENTITIES
# libphonenumber regions tried on every row: presidio's defaults (US GB DE FR IL IN BR; its CA is
# left out: +1 numbers of Canada are found through US) and the recipe's Chinese (CN TW) and JP.
# HK is left out: every 8-digit number is a valid HK landline (31500000, a clock rate in an
# English page, is one); add it for Hong Kong pages.
DEFAULT_PHONE_REGIONS = ("US", "GB", "DE", "FR", "IL", "IN", "BR", "CN", "TW", "JP")
# A row's language label adds its country's national formats (each region costs libphonenumber a
# pass over every digit run); international forms (+34 ...) are found in every row anyway.
LANGUAGE_PHONE_REGIONS = {"es": "ES", "it": "IT", "nl": "NL", "ko": "KR", "pt": "PT", "pl": "PL"}
