//! One function per subcommand: each reads its inputs, runs the pipeline pieces it needs and
//! prints. Errors go back to `main` as one line that says what to do.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::analysis::{self, AnalysisOptions, Framework, FrameworkLibrary, FrameworkOrigin, Level};
use crate::audio::capture::{self, AudioSource, Microphone, WavFileSource};
use crate::audio::vad::VoiceDetector;
use crate::cli::{
    AnalyzeArgs, EvalArgs, HintArgs, LevelArg, ReportArgs, SessionArgs, TrainArgs, TranscribeArgs,
    WhisperArgs,
};
use crate::config::{self, Config, Settings};
use crate::corpus::{CorpusAnswer, Split};
use crate::models::sentence::{self, CachedEncoder, MiniLm};
use crate::models::{self, convert, fetch};
use crate::report::{history as answer_history, html as report_html};
use crate::session::endpoint::EndpointRules;
use crate::session::keys::RetryKeyWatcher;
use crate::session::listen::TranscriptionWorker;
use crate::session::live::LiveView;
use crate::session::nudge::NudgeMode;
use crate::session::questions::Question;
use crate::session::recover;
use crate::session::{questions, Retry, Session, SessionEnd, SessionSettings};
use crate::speech::speak::{DeviceVoice, SpeakError, SystemVoice, Tone, Voice};
use crate::speech::transcribe::{self, WavFileBlocks, WhisperSpeechToText, WhisperTuning};
use crate::stdout::Forgiving;
use crate::store::{saved, SessionRecord};
use crate::transcript::Transcript;
use crate::{eval as corpus_eval, files, paths, spoken_corpus};
use crate::{out, outln};

/// Logs go to stderr; whisper.cpp's own chatter only shows with -vv.
pub fn init_logging(verbose: u8) {
    let filter = match verbose {
        0 => "warn,whisper_rs=error",
        1 => "info,whisper_rs=warn",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("REHEARSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

fn load_config() -> Result<Config> {
    Config::load(&paths::config_file()?)
}

/// Chooses, checks and loads the Whisper model.
fn load_whisper(args: &WhisperArgs) -> Result<WhisperSpeechToText> {
    load_whisper_tuned(args, WhisperTuning::from_env())
}

/// Loads the chosen Whisper model decoding with `tuning`.
fn load_whisper_tuned(args: &WhisperArgs, tuning: WhisperTuning) -> Result<WhisperSpeechToText> {
    let config = load_config()?;
    let (path, source) = models::choose_model(args.model.as_deref(), &config)?;
    models::check_model(&path, source)?;
    tracing::info!(model = %path.display(), %source, "loading model");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = args.threads.map(|asked| {
        if asked > cores {
            eprintln!("warning: --threads {asked} is more than the {cores} cores here; using {cores} (more threads than cores only wait on each other)");
        }
        asked.min(cores)
    });
    Ok(WhisperSpeechToText::load_tuned(&path, threads, tuning)?)
}

/// The sentence model, loaded once per command; sentences already encoded (while a session
/// listens) are not encoded again.
pub type Encoder = CachedEncoder<MiniLm>;

/// Loads the sentence model the analysis reads meaning with.
fn load_sentence_model() -> Result<Encoder> {
    let dir = sentence::sentence_model_dir()?;
    tracing::info!(model = %dir.display(), "loading the sentence model");
    Ok(CachedEncoder::new(MiniLm::load(&dir)?))
}

/// Transcribes a WAV with the chosen model, streaming it (the header is checked before the
/// model loads).
pub fn transcribe_file(file: &Path, whisper: &WhisperArgs) -> Result<Transcript> {
    let mut audio = WavFileBlocks::open(file)?;
    let mut stt = load_whisper(whisper)?;
    let started = std::time::Instant::now();
    let transcript =
        transcribe::transcribe_blocks(&mut stt, &mut audio, &file.display().to_string())?;
    if let Some(seconds) = audio.cut_short_at() {
        eprintln!(
            "warning: {} ends after {seconds:.1} s, before its header says it does (a recorder that crashed, or a copy that did not finish); using the audio that is there",
            file.display()
        );
    }
    tracing::info!(
        "transcribed {:.1} s of audio in {} ms",
        transcript.duration_s,
        started.elapsed().as_millis()
    );
    Ok(transcript)
}

/// `transcribe --json` output: the transcript plus its text.
#[derive(Serialize)]
struct TranscriptJson<'a> {
    #[serde(flatten)]
    transcript: &'a Transcript,
    text: String,
}

pub fn transcribe(args: &TranscribeArgs) -> Result<()> {
    let transcript = transcribe_file(&args.file, &args.whisper)?;
    if args.json {
        let json = TranscriptJson {
            transcript: &transcript,
            text: transcript.text(),
        };
        outln!("{}", serde_json::to_string_pretty(&json)?)?;
    } else {
        outln!("{}", transcript.text())?;
    }
    Ok(())
}

pub fn models_list(json: bool) -> Result<()> {
    let entries = models::list_models()?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&entries)?)?;
        return Ok(());
    }
    let name_width = entries
        .iter()
        .map(|e| e.name.len())
        .max()
        .unwrap_or(0)
        .max(4);
    outln!(
        "{:<name_width$} {:>8}  {:<40}  STATUS",
        "NAME",
        "SIZE",
        "SHA-1"
    )?;
    for entry in entries {
        let status = if entry.installed {
            format!("installed at {}", entry.path.display())
        } else {
            "not installed".to_string()
        };
        outln!(
            "{:<name_width$} {:>8}  {:<40}  {status}",
            entry.name,
            entry.size,
            entry.sha1
        )?;
    }
    Ok(())
}

pub fn models_check(model: Option<&str>) -> Result<()> {
    let (path, source) = models::choose_model(model, &load_config()?)?;
    models::check_model(&path, source)?;
    let info = convert::inspect_ggml(&path)?;
    outln!(
        "{} (from {source}) is a valid Whisper model: {} tensors, {} audio layers, {:.1} MiB",
        path.display(),
        info.n_tensors,
        info.hparams.n_audio_layer,
        info.bytes as f64 / (1024.0 * 1024.0)
    )?;
    let sentence_dir = sentence::sentence_model_dir()?;
    sentence::check_sentence_model(&sentence_dir, true)?;
    outln!(
        "{} is a valid sentence model ({}, every file matches its pinned SHA-256)",
        sentence_dir.display(),
        sentence::SENTENCE_MODEL_NAME
    )?;
    Ok(())
}

pub fn models_dir() -> Result<()> {
    outln!("{}", paths::models_dir()?.display())?;
    Ok(())
}

pub fn models_fetch(name: &str, url: Option<&str>, sha1: Option<&str>) -> Result<()> {
    let model = fetch::find_known_model(name).with_context(|| {
        let names: Vec<&str> = fetch::KNOWN_MODELS.iter().map(|m| m.name).collect();
        format!("unknown model {name:?}; known models: {}", names.join(", "))
    })?;
    let dest_dir = paths::models_dir()?;
    std::fs::create_dir_all(&dest_dir)
        .with_context(|| format!("cannot create the models directory {}", dest_dir.display()))?;
    let path = fetch::fetch_model(&fetch::FetchRequest {
        model,
        base_url: url.unwrap_or(fetch::DEFAULT_BASE_URL),
        expected_sha1: sha1.unwrap_or(model.sha1),
        dest_dir: &dest_dir,
        show_progress: std::io::stderr().is_terminal(),
    })?;
    outln!("{} is installed at {}", model.name, path.display())?;
    Ok(())
}

pub fn models_convert(dir: &Path, out: Option<&Path>, quantize: &str) -> Result<()> {
    let quantization: convert::Quantization = quantize.parse()?;
    let summary = match out {
        Some(out) => convert::convert_ctranslate2_dir(dir, out, quantization)?,
        None => {
            let models_dir = paths::models_dir()?;
            std::fs::create_dir_all(&models_dir).with_context(|| {
                format!(
                    "cannot create the models directory {}",
                    models_dir.display()
                )
            })?;
            let staging = models_dir.join(format!(".converting-{}.bin", std::process::id()));
            let summary = convert::convert_ctranslate2_dir(dir, &staging, quantization)?;
            let name = model_file_name(&summary.hparams, quantization);
            let output = models_dir.join(name);
            std::fs::rename(&staging, &output).with_context(|| {
                format!("cannot move the converted model to {}", output.display())
            })?;
            convert::ConvertSummary { output, ..summary }
        }
    };
    outln!(
        "converted {} into {} ({} tensors, {:.1} MiB)",
        dir.display(),
        summary.output.display(),
        summary.n_tensors,
        summary.bytes as f64 / (1024.0 * 1024.0)
    )?;
    Ok(())
}

/// Names a converted model the way the official files are named (ggml-tiny.en.bin).
fn model_file_name(hparams: &convert::Hparams, quantization: convert::Quantization) -> String {
    let size = match (hparams.n_audio_layer, hparams.n_audio_state) {
        (4, 384) => "tiny",
        (6, 512) => "base",
        (12, 768) => "small",
        (24, 1024) => "medium",
        (32, 1280) => "large",
        _ => "custom",
    };
    let english = if hparams.n_vocab == 51864 { ".en" } else { "" };
    let suffix = match quantization {
        convert::Quantization::F16 => String::new(),
        other => format!("-{other}"),
    };
    format!("ggml-{size}{english}{suffix}.bin")
}

impl From<LevelArg> for Level {
    fn from(level: LevelArg) -> Level {
        match level {
            LevelArg::Early => Level::Early,
            LevelArg::Mid => Level::Mid,
            LevelArg::Senior => Level::Senior,
        }
    }
}

/// Columns of the terminal stdout is, or 80 when it is a file or a pipe.
fn terminal_width() -> usize {
    terminal_size::terminal_size_of(std::io::stdout())
        .map_or(80, |(terminal_size::Width(w), _)| usize::from(w))
}

/// Colour only on a terminal, and never when NO_COLOR is set.
fn stdout_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn framework_library() -> Result<FrameworkLibrary> {
    Ok(FrameworkLibrary::new(paths::frameworks_dir()?))
}

/// A framework by name or file, with the config's budget overrides for its parts.
fn load_framework(name: &str, settings: &Settings) -> Result<Arc<Framework>> {
    let framework = framework_library()?.load(name)?;
    Ok(Arc::new(framework.with_budgets(&settings.budgets)))
}

/// Analysis settings for today: the year lets "back in 2015" date a story (the analysis itself
/// has no clock).
fn analysis_options(settings: &Settings) -> Result<AnalysisOptions> {
    Ok(AnalysisOptions {
        level: settings.level,
        framework: load_framework(&settings.framework, settings)?,
        reference_year: Some(i32::from(jiff::Zoned::now().year())),
    })
}

pub fn analyze(args: &AnalyzeArgs) -> Result<()> {
    let is_json = args
        .input
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let flags = Config {
        level: args.level.map(Level::from),
        framework: args.framework.clone(),
        ..Config::default()
    };
    let options = analysis_options(&load_config()?.settings(&flags))?;
    let mut encoder = load_sentence_model()?;
    let transcript = if is_json {
        Transcript::read_json(&args.input)?
    } else {
        transcribe_file(&args.input, &args.whisper)?
    };
    let report = analysis::analyze_with(&mut encoder, &transcript, &options)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        out!("{}", analysis::render_terminal(&report, stdout_color()))?;
    }
    Ok(())
}

pub fn eval(args: &EvalArgs) -> Result<()> {
    let (dir, split) = (args.dir.as_path(), Split::from(args.split));
    let mut answers = corpus_eval::load_answers(dir, split)?;
    let mut heard_by = None;
    if let Some(n) = args.sample {
        answers = spread_sample(answers, n);
    }
    if args.through_audio {
        // The voices take turns, so any sample is read by all three.
        let voices: Vec<usize> = (0..answers.len())
            .map(|i| i % spoken_corpus::VOICES.len())
            .collect();
        let (heard, description) = hear_answers(
            &answers,
            &voices,
            &args.whisper,
            WhisperTuning::from_env(),
            args.audio_cache.as_deref(),
        )?;
        answers = heard;
        heard_by = Some(description);
    }
    let mut encoder = load_sentence_model()?;
    let summaries = corpus_eval::evaluate_all(&answers, &mut encoder)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&summaries)?)?;
    } else {
        let authors: std::collections::BTreeSet<&str> =
            answers.iter().map(|a| a.author.as_str()).collect();
        outln!(
            "{} answers by {} ({} split)",
            answers.len(),
            authors.into_iter().collect::<Vec<_>>().join(", "),
            split.name()
        )?;
        if let Some(description) = heard_by {
            outln!("{description}")?;
        }
        outln!()?;
        for summary in summaries {
            outln!("{summary}")?;
        }
        let second = crate::corpus::load_second_labels(dir)?;
        if !second.is_empty() {
            let first = crate::corpus::load_split(dir, Split::All)?;
            outln!("{}", corpus_eval::agreement(&first, &second))?;
        }
    }
    Ok(())
}

/// The chosen Whisper model's file name: what heard transcripts are kept under.
fn model_name(whisper: &WhisperArgs) -> Result<String> {
    let config = load_config()?;
    let (model, _) = models::choose_model(whisper.model.as_deref(), &config)?;
    Ok(model.file_name().map_or_else(
        || model.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    ))
}

/// `n` answers spread evenly over `answers` (all of them when there are no more than `n`): a
/// fixed subset, the same on every run.
fn spread_sample(answers: Vec<CorpusAnswer>, n: usize) -> Vec<CorpusAnswer> {
    let total = answers.len();
    if n >= total {
        return answers;
    }
    answers
        .into_iter()
        .enumerate()
        .filter(|(i, _)| (i * n) % total < n)
        .map(|(_, a)| a)
        .collect()
}

/// Every answer read aloud by its espeak-ng voice (`voices[i]` indexes `spoken_corpus::VOICES`)
/// and transcribed by the chosen Whisper model, with its labels carried onto the heard words;
/// and a line saying how, with the word error rate.
fn hear_answers(
    answers: &[CorpusAnswer],
    voices: &[usize],
    whisper: &WhisperArgs,
    tuning: WhisperTuning,
    audio_cache: Option<&Path>,
) -> Result<(Vec<CorpusAnswer>, String)> {
    let model_id = model_name(whisper)?;
    let cache = match audio_cache {
        Some(dir) => dir.to_path_buf(),
        None => paths::cache_dir()?.join("spoken-corpus"),
    };
    std::fs::create_dir_all(&cache)
        .with_context(|| format!("cannot create the transcript cache {}", cache.display()))?;
    let mut stt = load_whisper_tuned(whisper, tuning)?;
    let decoding = stt.decoding();
    let mut heard = Vec::with_capacity(answers.len());
    // Word errors and written words for each voice.
    let mut by_voice = [(0usize, 0usize); spoken_corpus::VOICES.len()];
    for (i, answer) in answers.iter().enumerate() {
        let voice = voices[i];
        let answer = spoken_corpus::hear(
            answer,
            spoken_corpus::VOICES[voice],
            &mut stt,
            &model_id,
            &decoding,
            &cache,
        )?;
        let (errors, words) = spoken_corpus::word_errors(
            &answers[i]
                .transcript
                .words
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>(),
            &answer
                .transcript
                .words
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>(),
        );
        by_voice[voice].0 += errors;
        by_voice[voice].1 += words;
        heard.push(answer);
        if (i + 1) % 10 == 0 {
            eprintln!("heard {} of {} answers", i + 1, answers.len());
        }
    }
    let rate = |(errors, words): (usize, usize)| 100.0 * errors as f64 / words.max(1) as f64;
    let (errors, words) = by_voice
        .iter()
        .fold((0, 0), |(e, n), &(de, dn)| (e + de, n + dn));
    let voices: Vec<String> = spoken_corpus::VOICES
        .iter()
        .zip(by_voice)
        .map(|(voice, counts)| format!("{voice} {:.1} %", rate(counts)))
        .collect();
    let description = format!(
        "read aloud by espeak-ng and transcribed by {model_id}: word error rate {:.1} % over {words} words ({})",
        rate((errors, words)),
        voices.join(", ")
    );
    Ok((heard, description))
}

pub fn train(args: &TrainArgs) -> Result<()> {
    let mut answers = crate::corpus::load_split(&args.corpus, Split::Train)?;
    let heard_model = format!("ggml-{}.bin", crate::train::HEARD_MODEL);
    if model_name(&args.whisper)? != heard_model {
        bail!(
            "rehearse train hears its training answers with {} (train::HEARD_MODEL), which the \
             recorded settings name; drop --model and $REHEARSE_MODEL, or change that constant",
            crate::train::HEARD_MODEL
        );
    }
    let (sample, voices): (Vec<CorpusAnswer>, Vec<usize>) = answers
        .iter()
        .filter_map(|a| crate::train::heard_voice(&a.id).map(|v| (a.clone(), v)))
        .unzip();
    let (heard, description) = hear_answers(
        &sample,
        &voices,
        &args.whisper,
        crate::train::HEARD_DECODING,
        args.audio_cache.as_deref(),
    )?;
    outln!("{} training answers also {description}", heard.len())?;
    answers.extend(heard);
    if let Some(file) = &args.export_sentences {
        let model = MiniLm::load(&sentence::sentence_model_dir()?)?;
        return crate::train::export_sentences(&answers, file, &|text| model.word_pieces(text));
    }
    let mut encoder = load_sentence_model()?;
    crate::train::run(&args.corpus, &answers, &args.out, &mut encoder)
}

pub fn devices() -> Result<()> {
    let (inputs, outputs) = capture::list_devices()?;
    outln!("Input devices:")?;
    for name in inputs {
        outln!("  {name}")?;
    }
    outln!("Output devices:")?;
    for name in outputs {
        outln!("  {name}")?;
    }
    Ok(())
}

/// espeak-ng's speed for a speaking rate of 0..1: 0.5 (and no rate) is 160 words a minute, each
/// step of 0.5 halves or doubles it, as the speech service's rate scale does around its normal.
fn espeak_words_per_minute(rate: Option<f32>) -> u32 {
    let rate = f64::from(rate.unwrap_or(0.5).clamp(0.0, 1.0));
    (160.0 * 2f64.powf((rate - 0.5) * 2.0)).round() as u32
}

pub fn sessions_list() -> Result<()> {
    let sessions = recover::list_sessions(&paths::sessions_dir()?)?;
    if sessions.is_empty() {
        outln!("no saved sessions")?;
    }
    for session in sessions {
        let state = match (&session.end, session.running) {
            (Some(end), _) => end.replace('_', " "),
            (None, true) => "running".to_string(),
            (None, false) => "unfinished: `rehearse sessions recover` analyses it".to_string(),
        };
        outln!(
            "{}  {} answers  {state}",
            session.dir.display(),
            session.answers
        )?;
    }
    Ok(())
}

pub fn sessions_recover(level: Option<LevelArg>, whisper: &WhisperArgs) -> Result<()> {
    let sessions_dir = paths::sessions_dir()?;
    if recover::unfinished_sessions(&sessions_dir)?.is_empty() {
        outln!("no unfinished sessions to recover")?;
        return Ok(());
    }
    let flags = Config {
        level: level.map(Level::from),
        ..Config::default()
    };
    let settings = load_config()?.settings(&flags);
    let mut stt = load_whisper(whisper)?;
    let mut encoder = load_sentence_model()?;
    recover_unfinished(
        &sessions_dir,
        &mut stt,
        &mut encoder,
        &analysis_options(&settings)?,
        &settings,
    )
}

/// Recovers every unfinished session, one line per recording.
fn recover_unfinished(
    sessions_dir: &Path,
    stt: &mut WhisperSpeechToText,
    encoder: &mut Encoder,
    options: &AnalysisOptions,
    settings: &Settings,
) -> Result<()> {
    let framework_named = |name: &str| load_framework(name, settings).ok();
    for dir in recover::unfinished_sessions(sessions_dir)? {
        let recovered = recover::recover_session(&dir, stt, encoder, options, &framework_named)?;
        if recovered.is_empty() {
            outln!(
                "{}: stopped before anything was recorded; marked recovered",
                dir.display()
            )?;
        }
        for recording in recovered {
            let wav = recording.wav.display();
            let seconds = recording.seconds;
            match recording.outcome {
                recover::RecoveryOutcome::Saved(path) => outln!(
                    "recovered {wav} ({seconds:.1} s): analysed into {}",
                    path.display()
                )?,
                recover::RecoveryOutcome::NoSpeech => {
                    outln!("recovered {wav} ({seconds:.1} s): no speech in it")?
                }
                recover::RecoveryOutcome::Failed(why) => {
                    outln!("kept {wav} ({seconds:.1} s) but could not transcribe it: {why}")?
                }
            }
        }
    }
    Ok(())
}

/// Prints what would have been spoken: the fallback when there is no speech service.
struct PrintedVoice;

impl Voice for PrintedVoice {
    fn say(&mut self, _text: &str) -> std::result::Result<(), SpeakError> {
        Ok(())
    }
}

pub fn session(args: &SessionArgs) -> Result<()> {
    let flags = Config {
        level: args.level.map(Level::from),
        end_silence_s: args.end_silence,
        max_answer_s: args.max_answer,
        voice: args.voice.clone(),
        speaking_rate: args.speaking_rate,
        input_device: args.input_device.clone(),
        output_device: args.output_device.clone(),
        framework: args.framework.clone(),
        nudge: args.nudge,
        ..Config::default()
    };
    let settings = load_config()?.settings(&flags);
    anyhow::ensure!(
        settings.max_answer_s > settings.end_silence_s,
        "the longest answer ({} s) must be more than the silence that ends one ({} s); \
         check --max-answer, --end-silence and the config file",
        settings.max_answer_s,
        settings.end_silence_s
    );
    let level = settings.level;
    let bank = questions::load_bank(args.questions.as_deref())?;
    let (chosen, retry) = match &args.retry {
        Some(spec) => {
            let (question, retry) = earlier_attempt(spec, &bank)?;
            (vec![question], Some(retry))
        }
        None => (questions::for_level(&bank, level), None),
    };
    let count = if retry.is_some() { 1 } else { args.count };
    anyhow::ensure!(
        !chosen.is_empty(),
        "no question in the bank suits the {} level; add one to your question file",
        level.name()
    );
    // Every framework the questions name, read now: a bad one stops the session before it starts.
    let analysis = analysis_options(&settings)?;
    let mut frameworks: Vec<Arc<Framework>> = Vec::new();
    for question in chosen.iter().take(count) {
        if let Some(name) = &question.framework {
            if !frameworks.iter().any(|f| &f.name == name) {
                let framework = load_framework(name, &settings).with_context(|| {
                    format!("question \"{}\" names the framework '{name}'", question.id)
                })?;
                frameworks.push(framework);
            }
        }
    }
    // Config, model and input first: a mistake there leaves nothing behind.
    let mut stt = load_whisper(&args.whisper)?;
    let mut encoder = load_sentence_model()?;
    let mut input: Box<dyn AudioSource> = match &args.input {
        Some(file) => Box::new(WavFileSource::open(file, args.input_speed)?),
        None => Box::new(Microphone::open(settings.input_device.as_deref())?),
    };
    let mut voice: Box<dyn Voice> = if args.silent {
        Box::new(PrintedVoice)
    } else if let Some(device) = &settings.output_device {
        Box::new(DeviceVoice::open(
            device,
            espeak_words_per_minute(settings.speaking_rate),
        )?)
    } else {
        match SystemVoice::open(settings.speaking_rate, settings.voice.as_deref()) {
            Ok(voice) => Box::new(voice),
            Err(e @ SpeakError::NoSuchVoice { .. }) => return Err(e.into()),
            Err(e) => {
                eprintln!("{e}; questions will be printed instead of spoken");
                Box::new(PrintedVoice)
            }
        }
    };
    // The record is created last, so a session that cannot start leaves nothing behind.
    let sessions_dir = paths::sessions_dir()?;
    let record = SessionRecord::create(&sessions_dir).map_err(|e| {
        anyhow::anyhow!(
            "{e:#}: rehearse keeps your sessions there; set {} to a folder you can write",
            paths::DATA_DIR_ENV
        )
    })?;
    // Every answer and follow-up at its longest, as 16-bit 16 kHz audio, plus room for reports.
    let needed = (count as f64 * 2.0 * settings.max_answer_s * 32_000.0) as u64 + (1 << 20);
    let free = files::free_bytes(record.dir())?;
    if free < needed {
        let dir = record.dir().to_path_buf();
        drop(record);
        let _ = std::fs::remove_dir_all(&dir);
        anyhow::bail!(
            "only {:.1} MB free in {}; a session of {} questions may record up to {:.1} MB: free some space, set {} to another disk, or lower --count/--max-answer",
            free as f64 / 1e6,
            sessions_dir.display(),
            count,
            needed as f64 / 1e6,
            paths::DATA_DIR_ENV
        );
    }
    // A session that cannot be recovered now must not stop a new one; it stays unfinished.
    if let Err(e) = recover_unfinished(&sessions_dir, &mut stt, &mut encoder, &analysis, &settings)
    {
        eprintln!("warning: {e:#}; starting the new session anyway");
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let retry_pressed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let key_watcher = RetryKeyWatcher::start(std::sync::Arc::clone(&retry_pressed));
    let restore_terminal = key_watcher.as_ref().map(RetryKeyWatcher::restorer);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the signal handler")?;
    let on_interrupt = std::sync::Arc::clone(&stop);
    // Ctrl-C, or SIGTERM (a logout, a service manager, `kill`), ends the session cleanly: the
    // answer in progress is kept and analysed. A second one quits at once (the recording on disk
    // is already valid). Both are installed here, before anything is recorded, so no signal
    // falls on the default action that would end the process mid-write.
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{signal, SignalKind};
        let _runtime = runtime.enter();
        let install = |kind| signal(kind).context("cannot start the signal handler");
        (
            install(SignalKind::interrupt())?,
            install(SignalKind::terminate())?,
        )
    };
    std::thread::spawn(move || {
        runtime.block_on(async {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            on_interrupt.store(true, std::sync::atomic::Ordering::Relaxed);
            eprintln!("\nstopping: finishing the answer in progress (Ctrl-C again to quit now)");
            let code = tokio::select! {
                _ = interrupt.recv() => 130,
                _ = terminate.recv() => 143,
            };
            if let Some(restore) = &restore_terminal {
                restore();
            }
            std::process::exit(code);
        });
    });
    let mut stdout = Forgiving::new(std::io::stdout());
    let mut live = LiveView::new(
        Box::new(Forgiving::new(std::io::stdout())),
        std::io::stdout().is_terminal(),
        settings.nudge,
    );
    if settings.nudge == NudgeMode::Tone {
        match Tone::open(settings.output_device.as_deref()) {
            Ok(tone) => live = live.with_chime(Box::new(tone)),
            Err(e) => eprintln!("warning: {e}; nudges are shown but not sounded"),
        }
    }
    let mut session = Session {
        input: input.as_mut(),
        voice: voice.as_mut(),
        worker: TranscriptionWorker::start(Box::new(stt)),
        encoder: &mut encoder,
        record,
        settings: SessionSettings {
            count,
            analysis,
            frameworks,
            retry,
            endpoint: EndpointRules {
                end_silence_s: settings.end_silence_s,
                max_answer_s: settings.max_answer_s,
                ..EndpointRules::default()
            },
            color: stdout_color(),
        },
        out: &mut stdout,
        live,
        stop: &stop,
        retry_key: key_watcher.as_ref().map(|_| &*retry_pressed),
        new_vad: || Box::new(VoiceDetector::default()),
    };
    let dir = session.record.dir().to_path_buf();
    let (end, _) = session.run(&chosen).map_err(|e| {
        if files::is_disk_full(&e) {
            anyhow::anyhow!(
                "the disk is full ({e:#}); what was recorded is kept in {}: free some space, then `rehearse sessions recover` analyses it",
                dir.display()
            )
        } else {
            e
        }
    })?;
    if end == SessionEnd::Interrupted {
        eprintln!("session stopped; everything recorded so far is kept");
    }
    Ok(())
}

/// `session --retry SESSION[:N]`: the earlier answer's question, asked again under the framework
/// it was measured against, and its report to compare the new answer with.
fn earlier_attempt(spec: &str, bank: &[Question]) -> Result<(Question, Retry)> {
    let selection = saved::select(spec, &paths::sessions_dir()?)?;
    let (answer, report) = selection
        .answers()
        .filter_map(|a| a.report.clone().map(|report| (a, report)))
        .last()
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no answer was heard in {spec}, so there is nothing to compare with; pick an answer that `rehearse history` lists"
            )
        })?;
    let question = bank
        .iter()
        .find(|q| q.text == answer.question)
        .cloned()
        .unwrap_or_else(|| Question {
            id: "retry".to_string(),
            text: answer.question.clone(),
            levels: Vec::new(),
            followups: Vec::new(),
            framework: None,
        });
    let question = Question {
        framework: Some(report.framework.clone()),
        ..question
    };
    let retry = Retry {
        of: format!("{}:{}", selection.session.id, answer.number),
        report,
    };
    Ok((question, retry))
}

pub fn history(json: bool) -> Result<()> {
    let list = saved::read_all(&paths::sessions_dir()?)?;
    for problem in &list.unreadable {
        eprintln!("skipped: {problem}");
    }
    let history = answer_history::build(&list.sessions);
    if json {
        outln!("{}", serde_json::to_string_pretty(&history)?)?;
    } else {
        out!(
            "{}",
            answer_history::render_terminal(&history, terminal_width())
        )?;
    }
    Ok(())
}

pub fn report(args: &ReportArgs) -> Result<()> {
    let selection = saved::select(&args.selection, &paths::sessions_dir()?)?;
    if selection.answers().next().is_none() {
        bail!(
            "session {} has no answers: it ended before a question was answered",
            selection.session.id
        );
    }
    match &args.html {
        Some(file) => {
            let page = report_html::render(&selection)?;
            report_html::save(&page, file, &paths::data_dir()?, args.force)?;
            outln!("{}", file.display())?;
        }
        None => {
            let color = stdout_color();
            for answer in selection.answers() {
                outln!("{}. {}\n", answer.number, answer.question)?;
                match &answer.report {
                    Some(report) => out!("{}", analysis::render_terminal(report, color))?,
                    None => outln!("No answer was heard.")?,
                }
                if let Some(followup) = &answer.followup {
                    outln!("\nFollow-up: {}\n> {}", followup.question, followup.answer)?;
                }
                outln!()?;
            }
        }
    }
    Ok(())
}

pub fn hint(args: &HintArgs) -> Result<()> {
    let flags = Config {
        level: args.level.map(Level::from),
        framework: args.framework.clone(),
        ..Config::default()
    };
    let settings = load_config()?.settings(&flags);
    let bank = questions::load_bank(args.questions.as_deref())?;
    let question = match &args.question {
        Some(id) => bank.iter().find(|q| &q.id == id).cloned().ok_or_else(|| {
            let known: Vec<&str> = bank.iter().map(|q| q.id.as_str()).collect();
            anyhow::anyhow!(
                "no question with the id '{id}'; known: {} (`rehearse questions list`)",
                known.join(", ")
            )
        })?,
        None => questions::for_level(&bank, settings.level)
            .into_iter()
            .next()
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "no question in the bank suits the {} level; name one",
                    settings.level.name()
                )
            })?,
    };
    let framework = load_framework(
        question.framework.as_deref().unwrap_or(&settings.framework),
        &settings,
    )?;
    out!(
        "{}",
        crate::hint::printed(&question.text, &framework, settings.level)
    )?;
    Ok(())
}

pub fn questions_list(level: Option<LevelArg>, file: Option<&Path>, json: bool) -> Result<()> {
    let bank = questions::load_bank(file)?;
    let shown = match level {
        Some(level) => questions::for_level(&bank, level.into()),
        None => bank,
    };
    if json {
        outln!("{}", serde_json::to_string_pretty(&shown)?)?;
        return Ok(());
    }
    for question in &shown {
        let levels = if question.levels.is_empty() {
            "all levels".to_string()
        } else {
            let names: Vec<String> = question
                .levels
                .iter()
                .map(|l| l.name().to_string())
                .collect();
            names.join(", ")
        };
        let framework = question
            .framework
            .as_deref()
            .unwrap_or(analysis::DEFAULT_FRAMEWORK);
        outln!(
            "{}  [{levels}; {framework}]\n  {}",
            question.id,
            question.text
        )?;
        for followup in &question.followups {
            outln!("    - {followup}")?;
        }
    }
    Ok(())
}

pub fn frameworks_list() -> Result<()> {
    let library = framework_library()?;
    for (name, origin) in library.names() {
        let from = match &origin {
            FrameworkOrigin::BuiltIn => "built in".to_string(),
            FrameworkOrigin::User(path) => path.display().to_string(),
        };
        match library.load(&name) {
            Ok(f) => {
                let parts: Vec<String> = f
                    .parts
                    .iter()
                    .map(|p| format!("{} {:.0}-{:.0} s", p.id, p.budget.min_s, p.budget.max_s))
                    .collect();
                outln!("{name}  {}  ({from})", f.title)?;
                outln!(
                    "  {}; whole answer {:.0}-{:.0} s",
                    parts.join(", "),
                    f.total.min_s,
                    f.total.max_s
                )?;
            }
            Err(e) => outln!("{name}  cannot be used: {e}")?,
        }
    }
    Ok(())
}

pub fn frameworks_show(name: &str) -> Result<()> {
    out!("{}", framework_library()?.load(name)?.source)?;
    Ok(())
}

pub fn frameworks_dir() -> Result<()> {
    outln!("{}", paths::frameworks_dir()?.display())?;
    Ok(())
}

pub fn config_show() -> Result<()> {
    let path = paths::config_file()?;
    let config = Config::load(&path)?;
    let state = if path.is_file() {
        ""
    } else {
        " (not created yet: `rehearse config init`)"
    };
    outln!("# {}{state}", path.display())?;
    let model_from_env = std::env::var(models::MODEL_ENV)
        .ok()
        .filter(|v| !v.is_empty());
    out!("{}", config.show(model_from_env.as_deref()))?;
    Ok(())
}

pub fn config_path() -> Result<()> {
    outln!("{}", paths::config_file()?.display())?;
    Ok(())
}

pub fn config_init(force: bool) -> Result<()> {
    let path = paths::config_file()?;
    config::init(&path, force)?;
    outln!("wrote {}", path.display())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speaking_rate_maps_onto_espeak_speeds_around_its_normal() {
        assert_eq!(espeak_words_per_minute(None), 160);
        assert_eq!(espeak_words_per_minute(Some(0.5)), 160);
        assert_eq!(espeak_words_per_minute(Some(0.0)), 80);
        assert_eq!(espeak_words_per_minute(Some(1.0)), 320);
    }
}
