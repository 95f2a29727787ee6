#!/usr/bin/env python3
"""Word error rate after English text normalisation in the spirit of the one Whisper's papers use
(written here from scratch): the same rules run on both sides, so that writing choices (case,
punctuation, "25" or "twenty-five", "Mr." or "mister", "can't" or "cannot", "colour" or "color")
do not count as errors, and only words heard differently do.

  normalise_wer.py REF_FILE HYP_FILE           prints "errors reference_words" (sum these over clips)
  normalise_wer.py --rate REF_FILE HYP_FILE    prints the word error rate, e.g. 0.0833
  normalise_wer.py --show REF_FILE HYP_FILE    also prints both normalised texts to stderr
  normalise_wer.py --self-test                 checks the rules on a handful of cases

Rules, in order: Unicode compatibility forms and curly quotes folded, accents dropped; lower case;
text in [brackets], (parentheses) and <angle brackets> dropped (sound tags, utterance ids,
sentence markers); thousands separators, $, %, & and decimal points spelled out; dotted
abbreviations joined ("o.k." -> "ok", "u.s." -> "us"); hyphens, dashes and slashes to spaces;
other punctuation removed, apostrophes kept only inside words; contractions expanded
("can't" -> "can not", "I'm" -> "i am", "it's" -> "it is"; "'s" after a noun stays, as a
possessive) and then any remaining apostrophe dropped ("john's" -> "johns"); digit strings
(any size) and ordinals ("21st") written as words, 4-digit numbers from 1100 to 1999 that are not
whole hundreds read as years ("1990" -> "nineteen ninety"); "and" dropped inside a number ("one
hundred and five" == "105"); titles, spelling variants and a few colloquial forms unified
("mr" -> "mister", "ok" -> "okay", "colour" -> "color", "gonna" -> "going to"); hesitations
("um", "uh", "hmm", "mhm") dropped.
"""
import re
import sys
import unicodedata

ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
SCALES = [(10 ** 12, "trillion"), (10 ** 9, "billion"), (10 ** 6, "million"), (1000, "thousand")]
ORDINAL_OF = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
              "nine": "ninth", "twelve": "twelfth"}
NUMBER_WORDS = set(ONES) | set(TENS[2:]) | {"hundred"} | {s for _, s in SCALES}


def below_thousand(n):
    words = []
    if n >= 100:
        words += [ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(TENS[n // 10])
        n %= 10
        if n:
            words.append(ONES[n])
    elif n or not words:
        words.append(ONES[n])
    return words


def cardinal(n):
    """Words for a non-negative integer: 2025 -> two thousand twenty five (no "and")."""
    if n < 1000:
        return below_thousand(n)
    words = []
    for size, name in SCALES:
        if n >= size:
            words += cardinal(n // size) + [name]
            n %= size
    if n:
        words += below_thousand(n)
    return words


def digits_to_words(s):
    """A digit string as words; leading zeros ("007") and very long strings read digit by digit."""
    if len(s) > 1 and s[0] == "0" or len(s) > 15:
        return [ONES[int(d)] for d in s]
    n = int(s)
    if 1100 <= n <= 1999 and n % 100 and len(s) == 4:  # a year: nineteen ninety, eighteen oh five
        rest = n % 100
        return below_thousand(n // 100) + (["oh", ONES[rest]] if rest < 10 else below_thousand(rest))
    return cardinal(n)


def ordinal(words):
    last = words[-1]
    if last in ORDINAL_OF:
        last = ORDINAL_OF[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return words[:-1] + [last]


# Whole words with an apostrophe, and what they stand for (after lower-casing).
CONTRACTIONS = {
    "won't": "will not", "can't": "can not", "shan't": "shall not", "ain't": "is not",
    "i'm": "i am", "let's": "let us", "y'all": "you all", "ma'am": "madam",
    "it's": "it is", "that's": "that is", "what's": "what is", "there's": "there is",
    "here's": "here is", "where's": "where is", "who's": "who is", "how's": "how is",
    "he's": "he is", "she's": "she is", "when's": "when is", "why's": "why is",
    "i'd've": "i would have", "'cause": "because",
}
# Suffixes that always stand for one word ("'d" and "'s" do not: had/would, is/has/possessive).
SUFFIXES = [("n't", " not"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"), ("'m", " am")]
# One word for another (or for several); applied to both sides.
WORD_MAP = {
    # titles and abbreviations
    "mr": "mister", "mrs": "missus", "ms": "miss", "dr": "doctor", "st": "saint", "jr": "junior",
    "sr": "senior", "prof": "professor", "vs": "versus", "etc": "et cetera", "lt": "lieutenant",
    "capt": "captain", "gen": "general", "sen": "senator", "gov": "governor", "rev": "reverend",
    # okay and colloquial forms
    "ok": "okay", "alright": "all right", "cannot": "can not", "gonna": "going to",
    "wanna": "want to", "gotta": "got to", "gimme": "give me", "lemme": "let me",
    "kinda": "kind of", "sorta": "sort of", "outta": "out of", "dunno": "do not know",
    "til": "until", "cuz": "because", "coz": "because", "percent": "per cent",
    "email": "e mail", "online": "on line", "everyday": "every day", "anymore": "any more",
    # British and American spelling
    "colour": "color", "colours": "colors", "favour": "favor", "favourite": "favorite",
    "favourites": "favorites", "honour": "honor", "honours": "honors", "labour": "labor",
    "neighbour": "neighbor", "neighbours": "neighbors", "behaviour": "behavior",
    "humour": "humor", "rumour": "rumor", "harbour": "harbor", "flavour": "flavor",
    "centre": "center", "centres": "centers", "theatre": "theater", "metre": "meter",
    "metres": "meters", "litre": "liter", "litres": "liters", "fibre": "fiber",
    "organise": "organize", "organised": "organized", "organisation": "organization",
    "organisations": "organizations", "realise": "realize", "realised": "realized",
    "recognise": "recognize", "recognised": "recognized", "apologise": "apologize",
    "apologised": "apologized", "prioritise": "prioritize", "summarise": "summarize",
    "analyse": "analyze", "analysed": "analyzed", "optimise": "optimize", "optimised": "optimized",
    "emphasise": "emphasize", "criticise": "criticize", "minimise": "minimize",
    "maximise": "maximize", "programme": "program", "programmes": "programs",
    "travelled": "traveled", "travelling": "traveling", "cancelled": "canceled",
    "cancelling": "canceling", "modelling": "modeling", "labelled": "labeled", "grey": "gray",
    "judgement": "judgment", "licence": "license", "defence": "defense", "offence": "offense",
    "catalogue": "catalog", "dialogue": "dialog", "cheque": "check", "tyre": "tire",
    "aluminium": "aluminum", "enrol": "enroll", "fulfil": "fulfill", "skilful": "skillful",
}
HESITATIONS = {"um", "umm", "uh", "uhh", "er", "erm", "ah", "hmm", "hm", "mm", "mmm", "mhm"}


def money(m):
    whole, frac = m.group(1), m.group(2)
    out = f" {whole} dollars "
    if frac:
        out += f"{frac} cents " if len(frac) == 2 else f"point {' '.join(frac)} "
    return out


def expand_token(tok):
    """One lower-case token (letters, digits, inner apostrophes) -> a list of normalised words."""
    if tok in CONTRACTIONS:
        return CONTRACTIONS[tok].split()
    tok = tok.strip("'")
    if not tok:
        return []
    if tok in CONTRACTIONS:
        return CONTRACTIONS[tok].split()
    for suffix, full in SUFFIXES:
        if tok.endswith(suffix) and len(tok) > len(suffix):
            return expand_token(tok[: -len(suffix)]) + full.split()
    tok = tok.replace("'", "")
    m = re.fullmatch(r"(\d+)(st|nd|rd|th)", tok)
    if m:
        return ordinal(digits_to_words(m.group(1)))
    if re.search(r"\d", tok):  # "10am", "mp3": digits and letters apart
        words = []
        for part in re.findall(r"\d+|[a-z]+", tok):
            words += digits_to_words(part) if part.isdigit() else expand_token(part)
        return words
    if tok in HESITATIONS:
        return []
    return WORD_MAP.get(tok, tok).split()


def normalise(text):
    """Text -> list of normalised words."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate({0x2018: "'", 0x2019: "'", 0x02BC: "'", 0x201C: '"', 0x201D: '"',
                           0x2013: "-", 0x2014: "-", 0x2212: "-"})
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = text.lower()
    text = re.sub(r"\[[^\]]*\]|\([^)]*\)|<[^>]*>", " ", text)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)              # 1,000 -> 1000
    text = re.sub(r"\$\s?(\d+)(?:\.(\d+))?", money, text)         # $2.50 -> 2 dollars 50 cents
    text = re.sub(r"(\d+)\.(\d+)", lambda m: f"{m.group(1)} point {' '.join(m.group(2))}", text)
    text = re.sub(r"\s?%", " per cent ", text)
    text = re.sub(r"\s?&\s?", " and ", text)
    text = re.sub(r"\b((?:[a-z]\.){2,})", lambda m: m.group(1).replace(".", ""), text)  # o.k.
    text = re.sub(r"[-/_]", " ", text)
    text = re.sub(r"[^a-z0-9' ]", " ", text)
    words = []
    for tok in text.split():
        words += expand_token(tok)
    # "one hundred and five": the "and" inside a number goes, as it is never written in digits.
    return [w for i, w in enumerate(words)
            if not (w == "and" and 0 < i < len(words) - 1
                    and words[i - 1] in ("hundred", "thousand", "million", "billion", "trillion")
                    and words[i + 1] in NUMBER_WORDS)]


def edit_distance(ref, hyp):
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        diag, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            diag, row[j] = row[j], min(diag + (r != h), row[j] + 1, row[j - 1] + 1)
    return row[-1]


def errors(ref_text, hyp_text):
    ref, hyp = normalise(ref_text), normalise(hyp_text)
    return edit_distance(ref, hyp), len(ref)


CASES = [  # reference, hypothesis, errors, reference words
    ("Twenty-five dollars.", "25 dollars", 0, 3),
    ("I led", "I let", 1, 2),
    ("Mr. Smith said OK.", "Mister Smith said okay", 0, 4),
    ("It's 3.5%", "it is three point five per cent", 0, 7),
    ("I can't go; we won't stay.", "I cannot go, we will not stay", 0, 8),
    ("On the 21st of May, 1990.", "on the twenty first of may nineteen ninety", 0, 8),
    ("one hundred and five", "105", 0, 3),
    ("$1,000", "one thousand dollars", 0, 3),
    ("my favourite colour", "My favorite color!", 0, 3),
    ("John's dog, um, barked [laughs]", "johns dog barked", 0, 3),
    ("The well-known café", "the well known cafe", 0, 4),
    ("The cat sat", "The cat sat on the mat", 3, 3),
    ("I'd rather not", "I would rather not", 2, 3),  # "'d" is had or would: left as "id"
    ("the twenty-fifth, 'cause", "The 25th because", 0, 4),
    ("", "", 0, 0),
]


def self_test():
    failed = 0
    for ref, hyp, want_e, want_n in CASES:
        got = errors(ref, hyp)
        ok = got == (want_e, want_n)
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {ref!r} vs {hyp!r}: {got[0]} errors of {got[1]}"
              + ("" if ok else f" (want {want_e} of {want_n}: {normalise(ref)} / {normalise(hyp)})"))
    print(f"{len(CASES) - failed}/{len(CASES)} cases pass")
    return 1 if failed else 0


def main(argv):
    if argv == ["--self-test"]:
        return self_test()
    flags = {a for a in argv if a.startswith("--")}
    files = [a for a in argv if not a.startswith("--")]
    if len(files) != 2 or flags - {"--rate", "--show"}:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    ref_text, hyp_text = (open(f, encoding="utf-8").read() for f in files)
    if "--show" in flags:
        print("ref: " + " ".join(normalise(ref_text)), file=sys.stderr)
        print("hyp: " + " ".join(normalise(hyp_text)), file=sys.stderr)
    e, n = errors(ref_text, hyp_text)
    print(f"{e / max(n, 1):.4f}" if "--rate" in flags else f"{e} {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
