"""A dev-side probe of how pii_scrub's names generalize (issue #19), for tuning on dev only.

Names from generators the dev split does not use (the spent held-out splits' makers: heldout3's
mimesis and sibling Faker locales and name-variants, heldout4's Faker locales, Census names,
zhTW, japanese-personal-name-dataset and Sino-Korean syllables; never heldout5's nor heldout6's)
are put into dev's carrier text (dev's half of the carrier files), inside probe sentences with
titles, person contexts and, in ja and ko, particles and honorifics (PROBE_SENTENCES, used by no
split), and, with other names of the same makers, inside sentences of contexts no rule was
written for (PROBE_SENTENCES_NEW: a sentence's subject, after "according to", in a list).
Prints the share of names left verbatim per language, and the missed ones with -v.

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
# contexts no rule of curate/pii was written for (added for the generalization round of #19):
# names in running text with no title, person context or label before them: a sentence's
# subject, after "according to" and "from", before an apposition, in a list with common words
PROBE_SENTENCES_NEW = {
    "en": ["As {n} pointed out, the flag is unsafe.", "The patch from {n} was merged.",
           "{n}, the maintainer, disagreed.", "Yesterday {n} replied.",
           "Mirrors: {n}, Debian, FTP."],
    "de": ["Laut {n} ist das ein Fehler.", "Der Patch stammt von {n}.",
           "{n}, der Betreuer, war dagegen.", "Gestern antwortete {n}.",
           "Spiegel: {n}, Debian, FTP."],
    "fr": ["Selon {n}, c'est un bogue.", "Le correctif vient de {n}.",
           "{n}, le mainteneur, n'était pas d'accord.", "Hier, {n} a répondu.",
           "Miroirs : {n}, Debian, FTP."],
    "es": ["Según {n}, es un error.", "El parche es de {n}.",
           "{n}, el responsable, no estaba de acuerdo.", "Ayer {n} respondió.",
           "Réplicas: {n}, Debian, FTP."],
    "it": ["Secondo {n} è un errore.", "La patch è di {n}.",
           "{n}, il responsabile, non era d'accordo.", "Ieri {n} ha risposto.",
           "Mirror: {n}, Debian, FTP."],
    "nl": ["Volgens {n} is dit een fout.", "De patch komt van {n}.",
           "{n}, de beheerder, was het er niet mee eens.", "Gisteren antwoordde {n}.",
           "Spiegels: {n}, Debian, FTP."],
    "zh": ["{n}昨天回复了邮件。", "根据{n}的说法，这是一个错误。", "这个补丁来自{n}。",
           "{n}和团队一起完成了测试。", "{n}认为这是缺陷。"],
    "ja": ["{n}によると、これは不具合だ。", "このパッチは{n}から届いた。", "昨日{n}が返信した。",
           "{n}と相談した。", "{n}の提案で変更した。"],
    "ko": ["{n}에 따르면 이것은 오류다.", "어제 {n}{이} 답장했다.", "{n}하고 통화했다.",
           "{n}{은} 이 버그를 보고했다.", "{n}한테 물어보세요.", "{n}{과} 상의했다."],
}  # fmt: skip


def makers(lang: str, seed: int) -> list:
    import pii_multilingual as pm

    if lang in pm.CJK:
        return [pm.name_variants_name(lang, seed), pm.heldout4_cjk_name(lang, seed + 1)]
    out = pm.heldout_names(lang, seed)
    out += [pm.census_name(seed + 2)] if lang == "en" else pm.heldout4_names(lang, seed + 2)
    return out


def probe(per_lang: int = 150, seed: int = 4242, sentences: dict | None = None) -> dict:
    import pii_multilingual as pm

    sentences = sentences or PROBE_SENTENCES
    texts, langs, names = [], [], []
    for li, lang in enumerate(pm.LANGS):
        rng = random.Random(seed + li)
        pool = pm.carrier_docs(lang, "dev", per_lang, rng)
        make = makers(lang, seed + 10 * li)
        for base in pool:
            name = rng.choice(make)()
            sentence = pm.ko_sentence(rng.choice(sentences[lang]), name)
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
    per = int(sys.argv[sys.argv.index("--per-lang") + 1]) if "--per-lang" in sys.argv else 150
    for label, seed, sentences in (
        ("probe", 4242, PROBE_SENTENCES),
        ("new contexts", 5353, PROBE_SENTENCES_NEW),
    ):
        print(f"## {label}")
        report(probe(per, seed, sentences))


def report(data: dict) -> None:
    import collections

    from bench_pii_multilingual import _stage_run

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
