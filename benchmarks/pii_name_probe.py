"""A dev-side probe of how pii_scrub's names generalize (issue #19), for tuning on dev only.

Names from generators the dev split does not use (the spent held-out splits' makers: heldout3's
mimesis and sibling Faker locales and name-variants, heldout4's Faker locales, Census names,
zhTW, japanese-personal-name-dataset and Sino-Korean syllables; never heldout5's nor heldout6's)
are put into dev's carrier text (dev's half of the carrier files), inside probe sentences with
titles, person contexts and, in ja and ko, particles and honorifics (PROBE_SENTENCES, used by no
split). Prints the share of names left verbatim per language, and the missed ones with -v.

    PYTHONPATH=. python benchmarks/pii_name_probe.py [-v] [--per-lang N]
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

PROBE_SENTENCES = {
    "en": ["Questions go to {n}.", "Written by {n} in 2011.", "Dr. {n} approved it.",
           "Ms. {n} signed the form.", "Please contact {n} first.", "{n} wrote this page."],
    "de": ["Fragen an {n}.", "Geschrieben von {n}.", "Frau {n} hat zugestimmt.",
           "Herr {n} prüft das.", "Kontakt: {n}", "{n} hat die Seite erstellt."],
    "fr": ["Questions à {n}.", "Écrit par {n} en 2011.", "Mme {n} a signé.",
           "M. {n} a validé la version.", "Contacter {n} avant.", "{n} a écrit cette page."],
    "es": ["Preguntas a {n}.", "Escrito por {n} en 2011.", "La Sra. {n} firmó.",
           "El Sr. {n} lo aprobó.", "Contactar con {n}.", "{n} escribió esta página."],
    "it": ["Domande a {n}.", "Scritto da {n} nel 2011.", "La Sig.ra {n} ha firmato.",
           "Il Sig. {n} ha approvato.", "Contattare {n} prima.", "{n} ha scritto la pagina."],
    "nl": ["Vragen aan {n}.", "Geschreven door {n} in 2011.", "Mevr. {n} heeft getekend.",
           "Dhr. {n} keurde het goed.", "Neem contact op met {n}.", "{n} schreef deze pagina."],
    "zh": ["由{n}负责审核。", "请与{n}联系。", "{n}表示同意。", "作者：{n}", "{n}先生已确认。"],
    "ja": ["{n}さんに確認した。", "{n}氏が承認した。", "{n}様宛て。", "{n}が作成した。",
           "{n}に連絡してください。", "{n}先生の指示による。", "{n}は了承した。"],
    "ko": ["{n}{이} 승인했다.", "{n}{은} 동의했다.", "{n} 씨에게 연락.", "{n} 님이 작성함.",
           "{n}{과} 협의함.", "{n}{을} 만났다.", "{n} 교수가 검토함.", "{n}의 의견."],
}  # fmt: skip


def makers(lang: str, seed: int) -> list:
    import pii_multilingual as pm

    if lang in pm.CJK:
        return [pm.name_variants_name(lang, seed), pm.heldout4_cjk_name(lang, seed + 1)]
    out = pm.heldout_names(lang, seed)
    out += [pm.census_name(seed + 2)] if lang == "en" else pm.heldout4_names(lang, seed + 2)
    return out


def probe(per_lang: int = 150, seed: int = 4242) -> dict:
    import pii_multilingual as pm

    texts, langs, names = [], [], []
    for li, lang in enumerate(pm.LANGS):
        rng = random.Random(seed + li)
        pool = pm.carrier_docs(lang, "dev", per_lang, rng)
        make = makers(lang, seed + 10 * li)
        for base in pool:
            name = rng.choice(make)()
            sentence = pm.ko_sentence(rng.choice(PROBE_SENTENCES[lang]), name)
            cut = base.find("\n", len(base) // 2)
            if cut < 0:
                base, cut = base + "\n", len(base) + 1
            else:
                cut += 1
            texts.append(base[:cut] + sentence + "\n" + base[cut:])
            langs.append(lang)
            names.append((cut + sentence.index(name), name))
    return {"text": texts, "language": langs, "names": names}


def main() -> None:
    import collections

    from bench_pii_multilingual import _stage_run

    per = int(sys.argv[sys.argv.index("--per-lang") + 1]) if "--per-lang" in sys.argv else 150
    data = probe(per)
    out, _ = _stage_run(data["text"], data["language"], {})
    missed = collections.Counter()
    total = collections.Counter()
    for text, lang, (at, name) in zip(out, data["language"], data["names"]):
        total[lang] += 1
        if text[at : at + len(name)] == name:
            missed[lang] += 1
            if "-v" in sys.argv:
                print(
                    lang, name, "|", text[max(0, at - 25) : at + len(name) + 15].replace("\n", " ")
                )
    for lang in total:
        print(f"{lang}: {missed[lang]}/{total[lang]} missed")
    print(f"all: {sum(missed.values())}/{sum(total.values())}")


if __name__ == "__main__":
    main()
