#!/usr/bin/env bash
# Fillers heard: six answers written for this check (26 "um"/"uh" between them; five short, one
# of about 27 s said without a pause long enough to end a chunk), each read by two espeak-ng
# voices, transcribed by `rehearse transcribe` with and without the disfluent prompt
# (src/speech/transcribe.rs, DISFLUENT_PROMPT, PROMPT_MAX_CHUNK_S). Prints the fillers said and
# transcribed (and any invented), their precision and recall, and the word error rate on the
# other words.
#   scripts/bench/fillers.sh [MODEL]   (default models/ggml-base-q8_0.bin, the default model)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
model="${1:-$repo/models/ggml-base-q8_0.bin}"
bin="${CARGO_TARGET_DIR:-$repo/target}/release/rehearse"
[ -x "$bin" ] || (cd "$repo" && cargo build --release --locked --quiet)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/texts.txt" <<'TEXTS'
So, um, the failure I want to talk about is, uh, a product launch I led last year. I, um, missed the date by three weeks because I didn't, uh, raise the risk early enough.
Uh, I was the shift lead that night, and, um, I signed off the handover without reading the, uh, medication chart. A patient got a late dose, and, um, that was on me.
Um, so, last spring I, uh, promised a client the report by Friday. I, um, knew the data was late, and I, uh, didn't tell anyone until Thursday night.
I think, um, the biggest thing I learned is to, uh, check in every week. Since then, um, every project I've run has, uh, finished on time.
Well, uh, I ran the migration without a, um, rollback plan, and two hundred accounts, uh, lost their history. Now I, um, always do a dry run first.
So, um, the one I'd pick is the warehouse move I ran two years ago, and, uh, I planned it around the lorries but not around the, um, pickers' shifts, so on the Monday half the team turned up at the old site. That was, uh, my plan and my miss. Now I, um, walk every plan past the shift leads first, and, uh, the last two moves went without a single lost shift.
TEXTS
i=0
while IFS= read -r line; do
  i=$((i + 1))
  for voice in en-us en-gb-x-rp; do
    espeak-ng -v "$voice" -s 150 -w "$work/a$i-$voice.wav" "$line"
    for prompt in 1 0; do
      REHEARSE_WHISPER_TUNING="disfluent_prompt=$prompt" "$bin" transcribe --model "$model" \
        "$work/a$i-$voice.wav" > "$work/a$i-$voice.$prompt.txt" 2>/dev/null
    done
  done
done < "$work/texts.txt"
python3 - "$work" <<'PY'
import re, sys
work = sys.argv[1]
texts = open(f"{work}/texts.txt").read().strip().split("\n")
FILLERS = {"um", "uh", "er", "erm", "ah"}
words = lambda s: re.findall(r"[a-z']+", s.lower())
def distance(a, b):
    d = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        p, d[0] = d[:], i
        for j, y in enumerate(b, 1):
            d[j] = min(p[j] + 1, d[j - 1] + 1, p[j - 1] + (x != y))
    return d[len(b)]
for prompt, name in [("0", "without the prompt"), ("1", "with the prompt")]:
    said = heard = invented = errors = total = 0
    for i, text in enumerate(texts, 1):
        for voice in ["en-us", "en-gb-x-rp"]:
            ref, hyp = words(text), words(open(f"{work}/a{i}-{voice}.{prompt}.txt").read())
            r, h = sum(w in FILLERS for w in ref), sum(w in FILLERS for w in hyp)
            said, heard, invented = said + r, heard + min(r, h), invented + max(0, h - r)
            plain = lambda ws: [w for w in ws if w not in FILLERS]
            errors += distance(plain(ref), plain(hyp))
            total += len(plain(ref))
    ratio = lambda a, b: f"{a / b:.2f}" if b else "n/a"
    print(f"{name:20} fillers said {said}, transcribed {heard}, invented {invented} "
          f"(precision {ratio(heard, heard + invented)}, recall {ratio(heard, said)}); "
          f"other words' error rate {100 * errors / total:.1f} %")
PY
