//! `rehearse session`, `devices` and `sessions`: the hands-free mock interview, the audio
//! devices it can use, and the sessions it left (listing, recovering an unfinished one).

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::analysis::{AnalysisOptions, Framework, Level};
use crate::app::cli::{LevelArg, SessionArgs, WhisperArgs};
use crate::app::config::{Config, Settings};
use crate::audio::capture::{self, AudioSource, Microphone, WavFileSource};
use crate::audio::vad::VoiceDetector;
use crate::library::questions::{self, Question};
use crate::outln;
use crate::session::endpoint::EndpointRules;
use crate::session::keys::RetryKeyWatcher;
use crate::session::listen::TranscriptionWorker;
use crate::session::live::LiveView;
use crate::session::nudge::NudgeMode;
use crate::session::recover;
use crate::session::{Retry, Session, SessionSettings};
use crate::speech::speak::{DeviceVoice, SpeakError, SystemVoice, Tone, Voice};
use crate::speech::transcribe::WhisperSpeechToText;
use crate::stdout::Forgiving;
use crate::store::SessionEnd;
use crate::store::{saved, SessionRecord};
use crate::{files, paths};

use super::{
    analysis_options, load_config, load_framework, load_sentence_model, load_whisper, stdout_color,
    Encoder,
};

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
            (Some(end), _) => end.words().to_string(),
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

/// What a session will ask, resolved from the flags, the config file and the question bank
/// before anything is opened: a mistake in any of them stops the session before it records.
struct SessionPlan {
    settings: Settings,
    questions: Vec<Question>,
    /// How many of `questions` are asked.
    count: usize,
    retry: Option<Retry>,
    /// Every framework the asked questions name, read and checked.
    frameworks: Vec<Arc<Framework>>,
    analysis: AnalysisOptions,
}

impl SessionPlan {
    fn resolve(args: &SessionArgs) -> Result<SessionPlan> {
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
        let (questions, retry) = match &args.retry {
            Some(spec) => {
                let (question, retry) = earlier_attempt(spec, &bank)?;
                (vec![question], Some(retry))
            }
            None => (questions::for_level(&bank, level), None),
        };
        let count = if retry.is_some() { 1 } else { args.count };
        anyhow::ensure!(
            !questions.is_empty(),
            "no question in the bank suits the {} level; add one to your question file",
            level.name()
        );
        let analysis = analysis_options(&settings)?;
        let mut frameworks: Vec<Arc<Framework>> = Vec::new();
        for question in questions.iter().take(count) {
            if let Some(name) = &question.framework {
                if !frameworks.iter().any(|f| &f.name == name) {
                    let framework = load_framework(name, &settings).with_context(|| {
                        format!("question \"{}\" names the framework '{name}'", question.id)
                    })?;
                    frameworks.push(framework);
                }
            }
        }
        Ok(SessionPlan {
            settings,
            questions,
            count,
            retry,
            frameworks,
            analysis,
        })
    }

    /// Every answer and follow-up at its longest, as 16-bit 16 kHz audio, plus room for
    /// reports.
    fn bytes_needed(&self) -> u64 {
        (self.count as f64 * 2.0 * self.settings.max_answer_s * 32_000.0) as u64 + (1 << 20)
    }
}

pub fn session(args: &SessionArgs) -> Result<()> {
    let plan = SessionPlan::resolve(args)?;
    let settings = &plan.settings;
    // Model and input first: a mistake there leaves nothing behind.
    let mut stt = load_whisper(&args.whisper)?;
    let mut encoder = load_sentence_model()?;
    let mut input: Box<dyn AudioSource> = match &args.input {
        Some(file) => Box::new(WavFileSource::open(file, args.input_speed)?),
        None => Box::new(Microphone::open(settings.input_device.as_deref())?),
    };
    let mut voice = open_voice(args, settings)?;
    // The record is created last, so a session that cannot start leaves nothing behind.
    let sessions_dir = paths::sessions_dir()?;
    let record = create_record(&sessions_dir, &plan)?;
    // A session that cannot be recovered now must not stop a new one; it stays unfinished.
    if let Err(e) = recover_unfinished(
        &sessions_dir,
        &mut stt,
        &mut encoder,
        &plan.analysis,
        settings,
    ) {
        eprintln!("warning: {e:#}; starting the new session anyway");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let retry_pressed = Arc::new(AtomicBool::new(false));
    let key_watcher = RetryKeyWatcher::start(Arc::clone(&retry_pressed));
    stop_on_signals(
        Arc::clone(&stop),
        key_watcher.as_ref().map(RetryKeyWatcher::restorer),
    )?;
    let mut stdout = Forgiving::new(std::io::stdout());
    let mut session = Session {
        input: input.as_mut(),
        voice: voice.as_mut(),
        worker: TranscriptionWorker::start(Box::new(stt)),
        encoder: &mut encoder,
        record,
        settings: SessionSettings {
            count: plan.count,
            analysis: plan.analysis,
            frameworks: plan.frameworks,
            retry: plan.retry,
            endpoint: EndpointRules {
                end_silence_s: settings.end_silence_s,
                max_answer_s: settings.max_answer_s,
                ..EndpointRules::default()
            },
            color: stdout_color(),
        },
        out: &mut stdout,
        live: live_view(settings),
        stop: &stop,
        retry_key: key_watcher.as_ref().map(|_| &*retry_pressed),
        new_vad: || Box::new(VoiceDetector::default()),
    };
    let dir = session.record.dir().to_path_buf();
    let (end, _) = session
        .run(&plan.questions)
        .map_err(|e| explain_disk_full(e, &dir))?;
    if end == SessionEnd::Interrupted {
        eprintln!("session stopped; everything recorded so far is kept");
    }
    Ok(())
}

/// The live line under the answer; with `--nudge tone`, a chime sounds its nudges too (shown only,
/// with a warning, when no output device can play it).
fn live_view(settings: &Settings) -> LiveView {
    let live = LiveView::new(
        Box::new(Forgiving::new(std::io::stdout())),
        std::io::stdout().is_terminal(),
        settings.nudge,
    );
    if settings.nudge != NudgeMode::Tone {
        return live;
    }
    match Tone::open(settings.output_device.as_deref()) {
        Ok(tone) => live.with_chime(Box::new(tone)),
        Err(e) => {
            eprintln!("warning: {e}; nudges are shown but not sounded");
            live
        }
    }
}

/// A session stopped by a full disk says where its recordings are and how to analyse them.
fn explain_disk_full(e: anyhow::Error, dir: &Path) -> anyhow::Error {
    if files::is_disk_full(&e) {
        anyhow::anyhow!(
            "the disk is full ({e:#}); what was recorded is kept in {}: free some space, then `rehearse sessions recover` analyses it",
            dir.display()
        )
    } else {
        e
    }
}

/// The voice that asks the questions: printed with --silent, an output device's, or the speech
/// service's (printed instead when the service is missing; a named voice it lacks is an error).
fn open_voice(args: &SessionArgs, settings: &Settings) -> Result<Box<dyn Voice>> {
    Ok(if args.silent {
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
    })
}

/// The new session's directory, refused (and removed) when the disk cannot hold what the
/// session may record.
fn create_record(sessions_dir: &Path, plan: &SessionPlan) -> Result<SessionRecord> {
    let record = SessionRecord::create(sessions_dir).map_err(|e| {
        anyhow::anyhow!(
            "{e:#}: rehearse keeps your sessions there; set {} to a folder you can write",
            paths::DATA_DIR_ENV
        )
    })?;
    let needed = plan.bytes_needed();
    let free = files::free_bytes(record.dir())?;
    if free < needed {
        let dir = record.dir().to_path_buf();
        drop(record);
        let _ = std::fs::remove_dir_all(&dir);
        anyhow::bail!(
            "only {:.1} MB free in {}; a session of {} questions may record up to {:.1} MB: free some space, set {} to another disk, or lower --count/--max-answer",
            free as f64 / 1e6,
            sessions_dir.display(),
            plan.count,
            needed as f64 / 1e6,
            paths::DATA_DIR_ENV
        );
    }
    Ok(record)
}

/// Ctrl-C, or SIGTERM (a logout, a service manager, `kill`), ends the session cleanly: `stop` is
/// set, and the answer in progress is kept and analysed. A second one quits at once (the
/// recording on disk is already valid), restoring the terminal first. Both are installed
/// before anything is recorded, so no signal falls on the default action that would end the
/// process mid-write.
fn stop_on_signals(
    stop: Arc<AtomicBool>,
    restore_terminal: Option<impl Fn() + Send + 'static>,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the signal handler")?;
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
            stop.store(true, Ordering::Relaxed);
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
