//! Speech to timed words: whisper.cpp through whisper-rs, behind the small `SpeechToText` trait so
//! the rest of the pipeline can run on a fake in tests.
//!
//! Whisper only ever sees stretches the voice-activity detector marked as speech, grouped into
//! chunks that fit its 30 s window and cut at pauses. That keeps it from inventing text on silence,
//! keeps real pauses visible as gaps between words, and is the same cutting the live session uses.

use std::fs::File;
use std::io::BufReader;
use std::ops::Range;
use std::path::{Path, PathBuf};

use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use crate::audio::vad::{self, FrameClassifier, SpanRules};
use crate::audio::{self, AudioError, WavStream, SAMPLE_RATE};
use crate::transcript::{Transcript, Word};

/// The longest chunk handed to whisper at once: under its 30 s window, with room for padding.
const MAX_CHUNK_S: f64 = 25.0;

/// The longest pause a chunk spans. After a long pause inside a chunk Whisper can end its
/// transcript early and lose what follows (a 2.6 s pause before "Describe a time you failed."
/// lost the question); a pause that long ends a thought anyway, so little context is lost.
const MAX_PAUSE_IN_CHUNK_S: f64 = 1.5;

/// The longest chunk decoded after the disfluent prompt (`WhisperTuning::disfluent_prompt`);
/// longer ones are decoded without it. After the prompt Whisper drops stretches of long chunks:
/// on 84 corpus answers read by espeak-ng, prompting every chunk (up to 25 s) took the word
/// error rate from 17.1 % to 26.0 %, prompting those up to 20 s to 17.8 %, up to 15 s to 17.2 %
/// (docs/experiments.md). Most things said between two pauses are shorter.
const PROMPT_MAX_CHUNK_S: f64 = 15.0;

/// whisper.cpp refuses clips under a second; shorter stretches are padded with silence.
const MIN_CHUNK_SAMPLES: usize = SAMPLE_RATE as usize + SAMPLE_RATE as usize / 10;

/// Why transcription failed.
#[derive(Debug, thiserror::Error)]
pub enum TranscribeError {
    #[error("cannot load the Whisper model {path}: {detail}")]
    Load { path: String, detail: String },
    #[error("whisper failed on the audio: {0}")]
    Whisper(String),
    #[error("no speech found in {0}: check the recording level, or that the right file was given")]
    NoSpeech(String),
    #[error(transparent)]
    Audio(#[from] AudioError),
}

/// Anything that turns 16 kHz mono audio into timed words.
pub trait SpeechToText {
    /// The words in `audio`, with times in seconds from its first sample.
    fn words(&mut self, audio: &[f32]) -> Result<Vec<Word>, TranscribeError>;
}

/// Speed settings for whisper.cpp, each measured by `scripts/bench.sh` (README, Performance).
/// `REHEARSE_WHISPER_TUNING` (e.g. `flash_attn=1,fit_audio_ctx=0,fallback=1`) switches them for
/// side-by-side measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WhisperTuning {
    /// Flash attention in the encoder and decoder. Off: whisper.cpp 1.8.3 pads the keys to a
    /// multiple of 256 without a mask, so with the window fitted to the chunk a short chunk
    /// attends to keys a longer one left in the state, and its words depend on what came before
    /// (and change from run to run). Without it the attention is exact and, with llamafile's
    /// matrix kernels (`.cargo/config.toml`), faster.
    pub flash_attn: bool,
    /// Size the encoder's window to the chunk instead of always encoding 30 s.
    pub fit_audio_ctx: bool,
    /// Re-decode at higher temperatures when a segment looks wrong (whisper's default).
    pub temperature_fallback: bool,
    /// Decode chunks up to `PROMPT_MAX_CHUNK_S` after a prompt written the way people speak
    /// (`DISFLUENT_PROMPT`): Whisper leaves out "um" and "uh" unless its context shows them,
    /// so without it the delivery section could never count a filler. Measured
    /// (docs/experiments.md): 52 of 52 fillers written against 4 of 52; on whole answers the
    /// prompt on every chunk dropped words, on the chunks up to 15 s it does not. English-only
    /// models only: a multilingual model decodes without it (`load_tuned`).
    pub disfluent_prompt: bool,
}

/// A prompt in the style of unedited speech, fillers and all.
pub const DISFLUENT_PROMPT: &str =
    "Um, so, uh, I was, like, you know, I mean, er, the thing is, um, it went wrong.";

impl Default for WhisperTuning {
    fn default() -> Self {
        WhisperTuning {
            flash_attn: false,
            fit_audio_ctx: true,
            temperature_fallback: false,
            disfluent_prompt: true,
        }
    }
}

/// The tuning environment variable, for benchmarks.
pub const TUNING_ENV: &str = "REHEARSE_WHISPER_TUNING";

impl WhisperTuning {
    /// Defaults, with any `name=0|1` overrides from `REHEARSE_WHISPER_TUNING`.
    pub fn from_env() -> Self {
        let mut tuning = WhisperTuning::default();
        let Ok(spec) = std::env::var(TUNING_ENV) else {
            return tuning;
        };
        for item in spec.split(',').filter(|i| !i.trim().is_empty()) {
            let (name, value) = item.split_once('=').unwrap_or((item, "1"));
            let on = value.trim() != "0";
            match name.trim() {
                "flash_attn" => tuning.flash_attn = on,
                "fit_audio_ctx" => tuning.fit_audio_ctx = on,
                "fallback" => tuning.temperature_fallback = on,
                "disfluent_prompt" => tuning.disfluent_prompt = on,
                other => tracing::warn!("{TUNING_ENV}: unknown setting {other:?} ignored"),
            }
        }
        tuning
    }
}

/// Encoder frames per second of audio (1500 for whisper's 30 s window).
const AUDIO_CTX_PER_S: f64 = 50.0;

/// Smallest encoder window used (15 s, to a whole step): much smaller windows make decoding
/// unstable (whisper.cpp #1117).
const MIN_AUDIO_CTX: i32 = 752;

/// The longest encoder window: whisper's 30 s.
const MAX_AUDIO_CTX: i32 = 1500;

/// Encoder windows are whole multiples of this many frames. ggml's tiled matrix kernels
/// (llamafile's sgemm) take an attention product only when the window's length divides into
/// their tiles (16 f16 values to a register with AVX-512, 8 with AVX2); any other length falls
/// back to one dot product per row, which took 30 % of a transcription.
const AUDIO_CTX_STEP: i32 = 16;

/// The encoder window for a chunk: its length plus a second of margin, rounded up to a whole
/// number of `AUDIO_CTX_STEP`s, within whisper's limits.
pub fn audio_ctx_for(samples: usize) -> i32 {
    let seconds = samples as f64 / f64::from(SAMPLE_RATE) + 1.0;
    let needed = ((seconds * AUDIO_CTX_PER_S).ceil() as i32).clamp(MIN_AUDIO_CTX, MAX_AUDIO_CTX);
    let stepped = (needed + AUDIO_CTX_STEP - 1) / AUDIO_CTX_STEP * AUDIO_CTX_STEP;
    stepped.min(MAX_AUDIO_CTX)
}

/// A loaded whisper.cpp model with one decoding state, reused across calls.
pub struct WhisperSpeechToText {
    state: WhisperState,
    threads: Threads,
    tuning: WhisperTuning,
}

/// How many threads whisper.cpp runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Threads {
    /// `--threads N`: exactly this many.
    Fixed(usize),
    /// The cores no other program is running on, read before each transcription, at least 1.
    /// whisper.cpp's worker threads spin while they wait for each other, so a thread that shares
    /// a core with another busy program stalls the rest: with one busy loop on 2 cores, 9 s of
    /// speech took 3.1-3.7 s on 2 threads and 0.73 s on 1 (0.46 s and 0.70 s on an idle machine).
    FreeCores(usize),
}

impl Threads {
    fn now(self) -> usize {
        match self {
            Threads::Fixed(n) => n,
            Threads::FreeCores(cores) => {
                let busy = std::fs::read_to_string("/proc/loadavg")
                    .ok()
                    .and_then(|text| others_running(&text));
                free_cores(cores, busy.unwrap_or(0))
            }
        }
    }
}

/// Other programs running right now, from `/proc/loadavg`'s "running/total" field (which counts
/// this process too).
fn others_running(loadavg: &str) -> Option<usize> {
    let running: usize = loadavg
        .split_whitespace()
        .nth(3)?
        .split('/')
        .next()?
        .parse()
        .ok()?;
    Some(running.saturating_sub(1))
}

/// The cores left to whisper when `busy` other programs are running: at least one.
fn free_cores(cores: usize, busy: usize) -> usize {
    cores.saturating_sub(busy).max(1)
}

impl WhisperSpeechToText {
    /// Loads a ggml model file. Without `threads`, each transcription uses the cores no other
    /// program is busy on (`Threads::FreeCores`).
    pub fn load(model: &Path, threads: Option<usize>) -> Result<Self, TranscribeError> {
        Self::load_tuned(model, threads, WhisperTuning::from_env())
    }

    /// Loads a ggml model file that decodes with `tuning` whatever the environment says: what
    /// training hears must not change with a variable set for a benchmark.
    pub fn load_tuned(
        model: &Path,
        threads: Option<usize>,
        tuning: WhisperTuning,
    ) -> Result<Self, TranscribeError> {
        whisper_rs::install_logging_hooks();
        let started = std::time::Instant::now();
        let shown = model.display().to_string();
        let path = model.to_str().ok_or_else(|| TranscribeError::Load {
            path: shown.clone(),
            detail: "the path is not valid UTF-8".to_string(),
        })?;
        let mut context_params = WhisperContextParameters::default();
        context_params.flash_attn(tuning.flash_attn);
        let context = WhisperContext::new_with_params(path, context_params).map_err(|e| {
            TranscribeError::Load {
                path: shown.clone(),
                detail: e.to_string(),
            }
        })?;
        // The prompt is for the English-only models: after it the multilingual base invents
        // fillers and drops words (its filler answers: 18 fillers invented, 41.5 % of the other
        // words missed, against 9.8 % without it; docs/experiments.md), while it already writes
        // two fillers in three without one.
        let tuning = WhisperTuning {
            disfluent_prompt: tuning.disfluent_prompt && !context.is_multilingual(),
            ..tuning
        };
        let state = context.create_state().map_err(|e| TranscribeError::Load {
            path: shown,
            detail: e.to_string(),
        })?;
        let threads = match threads {
            Some(n) => Threads::Fixed(n.clamp(1, 64)),
            None => Threads::FreeCores(
                std::thread::available_parallelism().map_or(1, |n| n.get().min(64)),
            ),
        };
        tracing::info!(
            "model loaded in {} ms ({threads:?} threads, {tuning:?})",
            started.elapsed().as_millis()
        );
        Ok(WhisperSpeechToText {
            state,
            threads,
            tuning,
        })
    }

    /// How this transcriber cuts and prompts the audio, in words: with the model, it names
    /// what the transcriber writes (transcripts cached for evaluation are keyed by it).
    pub fn decoding(&self) -> String {
        let prompt = if self.tuning.disfluent_prompt {
            format!(", chunks up to {PROMPT_MAX_CHUNK_S} s after {DISFLUENT_PROMPT:?}")
        } else {
            String::new()
        };
        format!(
            "chunks up to {MAX_CHUNK_S} s spanning pauses up to {MAX_PAUSE_IN_CHUNK_S} s{prompt}"
        )
    }

    /// Settings for speech with long pauses: greedy decoding, no carried-over context (a pause
    /// must not let the previous chunk's text leak in), blanks and non-speech tokens suppressed.
    fn params(&self, samples: usize) -> FullParams<'static, 'static> {
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        if self.tuning.fit_audio_ctx {
            params.set_audio_ctx(audio_ctx_for(samples));
        }
        if !self.tuning.temperature_fallback {
            params.set_temperature_inc(0.0);
        }
        params.set_n_threads(self.threads.now() as i32);
        params.set_language(Some("en"));
        params.set_translate(false);
        params.set_no_context(true);
        if self.tuning.disfluent_prompt
            && samples as f64 <= PROMPT_MAX_CHUNK_S * f64::from(SAMPLE_RATE)
        {
            params.set_initial_prompt(DISFLUENT_PROMPT);
        }
        params.set_token_timestamps(true);
        params.set_suppress_blank(true);
        params.set_suppress_nst(true);
        params.set_no_speech_thold(0.6);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        params
    }
}

impl SpeechToText for WhisperSpeechToText {
    fn words(&mut self, audio: &[f32]) -> Result<Vec<Word>, TranscribeError> {
        let padded;
        let audio = if audio.len() < MIN_CHUNK_SAMPLES {
            let mut buffer = audio.to_vec();
            buffer.resize(MIN_CHUNK_SAMPLES, 0.0);
            padded = buffer;
            &padded[..]
        } else {
            audio
        };
        let params = self.params(audio.len());
        self.state
            .full(params, audio)
            .map_err(|e| TranscribeError::Whisper(e.to_string()))?;
        let mut tokens = Vec::new();
        for segment in self.state.as_iter() {
            for i in 0..segment.n_tokens() {
                let Some(token) = segment.get_token(i) else {
                    continue;
                };
                let data = token.token_data();
                let Ok(bytes) = token.to_bytes() else {
                    continue;
                };
                tokens.push(TimedToken {
                    bytes: bytes.to_vec(),
                    start_s: data.t0 as f64 / 100.0,
                    end_s: data.t1 as f64 / 100.0,
                    probability: f64::from(data.p),
                });
            }
        }
        Ok(merge_tokens_into_words(&tokens))
    }
}

/// One decoded token with its timing, as whisper reports it.
#[derive(Debug, Clone)]
pub struct TimedToken {
    pub bytes: Vec<u8>,
    pub start_s: f64,
    pub end_s: f64,
    pub probability: f64,
}

/// A word being assembled from its tokens.
struct PartialWord {
    bytes: Vec<u8>,
    start_s: f64,
    end_s: f64,
    probability_sum: f64,
    tokens: usize,
}

impl PartialWord {
    fn start(token: &TimedToken) -> Self {
        PartialWord {
            bytes: token.bytes.clone(),
            start_s: token.start_s,
            end_s: token.end_s,
            probability_sum: token.probability,
            tokens: 1,
        }
    }

    fn extend(&mut self, token: &TimedToken) {
        self.bytes.extend_from_slice(&token.bytes);
        self.end_s = token.end_s;
        self.probability_sum += token.probability;
        self.tokens += 1;
    }

    /// The finished word; bytes are joined before decoding, as a character can span tokens. A
    /// "word" with no letter or digit (the "♪" Whisper writes for a tone) is not one.
    fn into_word(self) -> Option<Word> {
        let text = String::from_utf8_lossy(&self.bytes).trim().to_string();
        text.chars().any(char::is_alphanumeric).then(|| Word {
            text,
            start_s: self.start_s,
            end_s: self.end_s.max(self.start_s),
            probability: self.probability_sum / self.tokens as f64,
        })
    }
}

/// Joins sub-word tokens into words: a token that starts with a space starts a new word.
/// Special tokens ("[_BEG_]", "<|endoftext|>", "[_TT_150]") carry no text and are dropped.
pub fn merge_tokens_into_words(tokens: &[TimedToken]) -> Vec<Word> {
    let mut words = Vec::new();
    let mut current: Option<PartialWord> = None;
    for token in tokens.iter().filter(|t| !is_special(&t.bytes)) {
        match current.as_mut() {
            Some(word) if token.bytes.first() != Some(&b' ') => word.extend(token),
            _ => {
                words.extend(current.take().and_then(PartialWord::into_word));
                current = Some(PartialWord::start(token));
            }
        }
    }
    words.extend(current.and_then(PartialWord::into_word));
    words
}

fn is_special(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    (text.starts_with("[_") && text.ends_with(']'))
        || (text.starts_with("<|") && text.ends_with("|>"))
}

/// Groups speech stretches into chunks no longer than `max_samples`, cutting only between
/// stretches (at pauses), and always at a pause longer than `max_pause`; a single stretch
/// longer than `max_samples` is cut into equal pieces.
pub fn group_into_chunks(
    spans: &[Range<usize>],
    max_samples: usize,
    max_pause: usize,
) -> Vec<Range<usize>> {
    let mut chunks: Vec<Range<usize>> = Vec::new();
    for span in spans {
        match chunks.last_mut() {
            Some(chunk)
                if span.end - chunk.start <= max_samples
                    && span.start.saturating_sub(chunk.end) <= max_pause =>
            {
                chunk.end = span.end
            }
            _ => {
                let pieces = (span.end - span.start).div_ceil(max_samples).max(1);
                let step = (span.end - span.start).div_ceil(pieces);
                let mut start = span.start;
                while start < span.end {
                    let end = (start + step).min(span.end);
                    chunks.push(start..end);
                    start = end;
                }
            }
        }
    }
    chunks
}

/// Moves each word into the stretch of speech its middle falls in (or the nearest one), so a
/// pause the VAD heard is never swallowed by whisper's interpolated token times.
pub fn fit_words_to_spans(words: &mut [Word], spans_s: &[(f64, f64)]) {
    if spans_s.is_empty() {
        return;
    }
    for word in words.iter_mut() {
        let middle = (word.start_s + word.end_s) / 2.0;
        let nearest = spans_s
            .iter()
            .min_by(|a, b| {
                distance_to(middle, **a)
                    .partial_cmp(&distance_to(middle, **b))
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
            .copied();
        if let Some((start, end)) = nearest {
            word.start_s = word.start_s.clamp(start, end);
            word.end_s = word.end_s.clamp(word.start_s, end);
        }
    }
    for i in 1..words.len() {
        if words[i].start_s < words[i - 1].start_s {
            words[i].start_s = words[i - 1].start_s;
            words[i].end_s = words[i].end_s.max(words[i].start_s);
        }
    }
}

fn distance_to(t: f64, (start, end): (f64, f64)) -> f64 {
    if t < start {
        start - t
    } else if t > end {
        t - end
    } else {
        0.0
    }
}

/// 16 kHz mono audio read block by block, from its start as often as needed: a file is read
/// twice (once to find the speech, once to hand it to whisper) instead of being held whole, so a
/// recording of any length is transcribed in bounded memory.
pub trait AudioBlocks {
    /// Goes back to the first sample.
    fn rewind(&mut self) -> Result<(), AudioError>;
    /// Appends the next block to `out`; returns false once the audio is over.
    fn next_block(&mut self, out: &mut Vec<f32>) -> Result<bool, AudioError>;
}

/// A WAV file, decoded and resampled as it is read.
pub struct WavFileBlocks {
    path: PathBuf,
    stream: WavStream<BufReader<File>>,
    /// Where a file shorter than its header ended, kept across rewinds (a later pass may stop
    /// before the end).
    cut_short_at: Option<f64>,
}

impl WavFileBlocks {
    /// Opens the file and checks its header.
    pub fn open(path: &Path) -> Result<Self, AudioError> {
        Ok(WavFileBlocks {
            path: path.to_path_buf(),
            stream: audio::open_wav(path)?,
            cut_short_at: None,
        })
    }

    /// Where the audio stopped, when the file ends before its header says (`WavStream`).
    pub fn cut_short_at(&self) -> Option<f64> {
        self.cut_short_at
    }
}

impl AudioBlocks for WavFileBlocks {
    fn rewind(&mut self) -> Result<(), AudioError> {
        self.stream = audio::open_wav(&self.path)?;
        Ok(())
    }

    fn next_block(&mut self, out: &mut Vec<f32>) -> Result<bool, AudioError> {
        let more = self.stream.read_block(out)?;
        self.cut_short_at = self.cut_short_at.or(self.stream.cut_short_at());
        Ok(more)
    }
}

/// The first pass over a recording: its stretches of speech (sample ranges) and its length in
/// samples; an empty recording is an error.
fn find_speech(
    audio: &mut dyn AudioBlocks,
    source: &str,
) -> Result<(Vec<std::ops::Range<usize>>, usize), TranscribeError> {
    audio.rewind()?;
    let mut classifier = FrameClassifier::default();
    let mut block = Vec::new();
    let mut total_samples = 0usize;
    loop {
        block.clear();
        let more = audio.next_block(&mut block)?;
        total_samples += block.len();
        classifier.push(&block);
        if !more {
            break;
        }
    }
    if total_samples == 0 {
        return Err(AudioError::Empty {
            path: source.to_string(),
        }
        .into());
    }
    let spans = vad::frames_to_spans(
        &classifier.into_voiced(),
        SpanRules::default(),
        total_samples,
    );
    Ok((spans, total_samples))
}

/// Transcribes a whole recording: speech stretches found by the VAD, chunked at pauses,
/// each chunk through `stt`, word times put back on the recording's clock. Holds at most one
/// chunk of audio (plus a block) at a time.
pub fn transcribe_blocks(
    stt: &mut dyn SpeechToText,
    audio: &mut dyn AudioBlocks,
    source: &str,
) -> Result<Transcript, TranscribeError> {
    let rate = f64::from(SAMPLE_RATE);
    let (spans, total_samples) = find_speech(audio, source)?;
    if spans.is_empty() {
        return Err(TranscribeError::NoSpeech(source.to_string()));
    }
    let spans_s: Vec<(f64, f64)> = spans
        .iter()
        .map(|s| (s.start as f64 / rate, s.end as f64 / rate))
        .collect();
    // Second pass: each chunk of speech to the recogniser, dropping the audio in between.
    audio.rewind()?;
    let mut buffer: Vec<f32> = Vec::new();
    let mut buffer_start = 0usize;
    let mut more = true;
    let mut words = Vec::new();
    for chunk in group_into_chunks(
        &spans,
        (MAX_CHUNK_S * rate) as usize,
        (MAX_PAUSE_IN_CHUNK_S * rate) as usize,
    ) {
        loop {
            let before_chunk = chunk.start.saturating_sub(buffer_start).min(buffer.len());
            buffer.drain(..before_chunk);
            buffer_start += before_chunk;
            if !more || buffer_start + buffer.len() >= chunk.end {
                break;
            }
            more = audio.next_block(&mut buffer)?;
        }
        let end = chunk.end.saturating_sub(buffer_start).min(buffer.len());
        let offset_s = chunk.start as f64 / rate;
        let chunk_end_s = chunk.end as f64 / rate;
        let heard_before = words.len();
        for mut word in stt.words(&buffer[..end])? {
            word.start_s = (word.start_s + offset_s).min(chunk_end_s);
            word.end_s = (word.end_s + offset_s).min(chunk_end_s);
            words.push(word);
        }
        tracing::debug!(
            "chunk {offset_s:.2}-{chunk_end_s:.2} s: {} words",
            words.len() - heard_before
        );
    }
    fit_words_to_spans(&mut words, &spans_s);
    if words.is_empty() {
        return Err(TranscribeError::NoSpeech(source.to_string()));
    }
    Ok(Transcript {
        duration_s: total_samples as f64 / rate,
        words,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Audio already in memory.
    struct SliceBlocks<'a> {
        audio: &'a [f32],
        position: usize,
    }

    impl<'a> SliceBlocks<'a> {
        fn new(audio: &'a [f32]) -> Self {
            SliceBlocks { audio, position: 0 }
        }
    }

    impl AudioBlocks for SliceBlocks<'_> {
        fn rewind(&mut self) -> Result<(), AudioError> {
            self.position = 0;
            Ok(())
        }

        fn next_block(&mut self, out: &mut Vec<f32>) -> Result<bool, AudioError> {
            let end = (self.position + SAMPLE_RATE as usize).min(self.audio.len());
            out.extend_from_slice(&self.audio[self.position..end]);
            self.position = end;
            Ok(end < self.audio.len())
        }
    }

    #[test]
    fn whisper_leaves_the_cores_other_programs_are_busy_on() {
        assert_eq!(others_running("0.52 0.58 0.59 1/489 12345\n"), Some(0));
        assert_eq!(others_running("2.01 1.20 0.90 3/512 12345\n"), Some(2));
        assert_eq!(others_running("garbage"), None);
        assert_eq!(free_cores(2, 0), 2);
        assert_eq!(free_cores(2, 1), 1);
        assert_eq!(free_cores(2, 5), 1);
        assert_eq!(free_cores(8, 3), 5);
        assert_eq!(Threads::Fixed(3).now(), 3);
        assert!(Threads::FreeCores(2).now() >= 1);
    }

    fn token(text: &str, start_s: f64, end_s: f64) -> TimedToken {
        TimedToken {
            bytes: text.as_bytes().to_vec(),
            start_s,
            end_s,
            probability: 0.5,
        }
    }

    fn word(text: &str, start_s: f64, end_s: f64) -> Word {
        Word {
            text: text.to_string(),
            start_s,
            end_s,
            probability: 1.0,
        }
    }

    #[test]
    fn the_encoder_window_fits_the_chunk_within_limits() {
        assert_eq!(audio_ctx_for(16_000 * 2), MIN_AUDIO_CTX);
        // 20 s with the margin: 1000 frames, rounded up to the next whole step.
        assert_eq!(audio_ctx_for(16_000 * 19), 1008);
        // Past the last whole step below 1500, the window is whisper's whole 30 s.
        assert_eq!(audio_ctx_for(16_000 * 28), 1456);
        assert_eq!(audio_ctx_for(16_000 * 28 + 11_200), 1488);
        assert_eq!(audio_ctx_for(16_000 * 29), 1500);
        assert_eq!(audio_ctx_for(16_000 * 40), 1500);
        for seconds in 1..29 {
            let ctx = audio_ctx_for(16_000 * seconds);
            assert_eq!(ctx % AUDIO_CTX_STEP, 0, "{seconds} s: {ctx}");
            assert!(f64::from(ctx) >= (seconds as f64 + 1.0) * AUDIO_CTX_PER_S);
        }
    }

    #[test]
    fn sub_word_tokens_join_and_specials_drop() {
        let words = merge_tokens_into_words(&[
            token("[_BEG_]", 0.0, 0.0),
            token(" I", 0.1, 0.2),
            token(" mis", 0.3, 0.5),
            token("judged", 0.5, 0.9),
            token(" it.", 1.0, 1.2),
            token("<|endoftext|>", 1.2, 1.2),
        ]);
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["I", "misjudged", "it."]);
        assert_eq!((words[1].start_s, words[1].end_s), (0.3, 0.9));
        // A tone written as a music note, or a lone dash, is no word.
        let words = merge_tokens_into_words(&[
            token(" \u{266a}", 0.0, 0.4),
            token(" -", 0.4, 0.5),
            token(" Um,", 0.5, 0.7),
        ]);
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["Um,"]);
    }

    #[test]
    fn chunks_cut_between_spans_and_split_overlong_stretches() {
        let chunks = group_into_chunks(&[0..10, 12..18, 30..35, 40..100], 20, 100);
        assert_eq!(chunks, vec![0..18, 30..35, 40..60, 60..80, 80..100]);
        // A pause longer than the longest a chunk spans cuts, however short the chunks.
        let chunks = group_into_chunks(&[0..4, 6..9, 15..18], 20, 3);
        assert_eq!(chunks, vec![0..9, 15..18]);
    }

    #[test]
    fn words_are_pulled_out_of_pauses() {
        let mut words = vec![word("before", 0.2, 1.9), word("after", 2.1, 3.5)];
        fit_words_to_spans(&mut words, &[(0.0, 1.0), (3.0, 4.0)]);
        assert!(words[0].end_s <= 1.0);
        assert!(words[1].start_s >= 3.0);
    }

    struct ScriptedSpeech {
        calls: Vec<usize>,
    }

    impl SpeechToText for ScriptedSpeech {
        fn words(&mut self, audio: &[f32]) -> Result<Vec<Word>, TranscribeError> {
            self.calls.push(audio.len());
            Ok(vec![word("hello", 0.0, 0.4)])
        }
    }

    #[test]
    fn silence_is_never_sent_to_the_recogniser() {
        let mut stt = ScriptedSpeech { calls: Vec::new() };
        let quiet = vec![0.0; 16_000 * 4];
        let result = transcribe_blocks(&mut stt, &mut SliceBlocks::new(&quiet), "quiet.wav");
        assert!(matches!(result, Err(TranscribeError::NoSpeech(_))));
        assert!(stt.calls.is_empty());
    }
}
