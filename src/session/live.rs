//! The live view while the candidate speaks: elapsed time, the part the analysis thinks they are
//! in against that part's budget, and an input level meter. On a terminal it is one line redrawn
//! in place (crossterm: portable cursor and colour control); elsewhere a plain line every few
//! seconds, so logs and pipes stay readable.

use std::io::Write;
use std::time::{Duration, Instant};

use crossterm::{cursor, style, terminal, QueueableCommand};

use crate::session::live_part::LivePart;
use crate::session::nudge::{NudgeMode, Nudger};
use crate::speech::speak::Chime;

/// What the live view shows.
#[derive(Debug, Clone)]
pub struct LiveStatus {
    pub elapsed_s: f64,
    pub speaking: bool,
    pub part: LivePart,
    /// 0..=1.
    pub level: f32,
}

const REDRAW_EVERY: Duration = Duration::from_millis(200);
const PLAIN_EVERY: Duration = Duration::from_secs(10);

pub struct LiveView {
    out: Box<dyn Write + Send>,
    terminal: bool,
    last: Option<Instant>,
    drawn: bool,
    /// `None` with `--nudge off`; a fresh one for each answer.
    nudger: Option<Nudger>,
    /// The cue printed last, so a plain (non-terminal) view prints each cue once, at once.
    cue_printed: Option<String>,
    /// With `--nudge tone`: sounds each new cue.
    chime: Option<Box<dyn Chime>>,
}

impl LiveView {
    /// `terminal`: redraw one line in place; otherwise print a plain line now and then.
    pub fn new(out: Box<dyn Write + Send>, terminal: bool, nudge: NudgeMode) -> LiveView {
        LiveView {
            out,
            terminal,
            last: None,
            drawn: false,
            nudger: (nudge != NudgeMode::Off).then(Nudger::default),
            cue_printed: None,
            chime: None,
        }
    }

    /// Sounds each new cue as well (`--nudge tone`).
    pub fn with_chime(mut self, chime: Box<dyn Chime>) -> LiveView {
        self.chime = Some(chime);
        self
    }

    pub fn update(&mut self, status: &LiveStatus) -> std::io::Result<()> {
        let cue = self
            .nudger
            .as_mut()
            .and_then(|n| n.cue(status.elapsed_s, &status.part))
            .map(str::to_string);
        let new_cue = cue.is_some() && cue != self.cue_printed;
        let period = if self.terminal {
            REDRAW_EVERY
        } else {
            PLAIN_EVERY
        };
        if self.last.is_some_and(|t| t.elapsed() < period) && !new_cue {
            return Ok(());
        }
        if new_cue {
            self.cue_printed.clone_from(&cue);
            if let Some(chime) = self.chime.as_mut() {
                chime.ring();
            }
        }
        self.last = Some(Instant::now());
        let line = status_line(status, self.terminal, cue.as_deref());
        if self.terminal {
            self.out
                .queue(cursor::MoveToColumn(0))?
                .queue(terminal::Clear(terminal::ClearType::CurrentLine))?
                .queue(style::Print(line))?;
            self.drawn = true;
        } else {
            writeln!(self.out, "{line}")?;
        }
        self.out.flush()
    }

    /// Ends the live line so the report starts on a clean line.
    pub fn finish(&mut self) -> std::io::Result<()> {
        if self.terminal && self.drawn {
            writeln!(self.out)?;
        }
        self.drawn = false;
        self.last = None;
        if self.nudger.is_some() {
            self.nudger = Some(Nudger::default());
        }
        self.cue_printed = None;
        self.out.flush()
    }
}

fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    format!("{:02}:{:02}", s / 60, s % 60)
}

/// One status line, at most 80 columns, with the nudge's cue if there is one.
pub fn status_line(status: &LiveStatus, meter: bool, cue: Option<&str>) -> String {
    let mut line = format!("  ● {}", clock(status.elapsed_s));
    if !status.speaking {
        line.push_str("  listening...");
    } else if let Some(label) = &status.part.label {
        line.push_str(&format!("  {label:<8} {:>3.0} s", status.part.seconds));
        if let Some((min, max)) = status.part.budget {
            line.push_str(&format!(" / {min:.0}-{max:.0} s"));
        }
    } else {
        line.push_str("  speaking");
    }
    if meter {
        let filled = (status.level * 10.0).round() as usize;
        line.push_str(&format!(
            "  [{}{}]",
            "▮".repeat(filled),
            " ".repeat(10 - filled.min(10))
        ));
    }
    if let Some(cue) = cue {
        line.push_str(&format!("  > {cue}"));
    }
    line.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_time_part_and_budget() {
        let status = LiveStatus {
            elapsed_s: 75.0,
            speaking: true,
            part: LivePart {
                label: Some("describe".into()),
                seconds: 41.0,
                budget: Some((45.0, 75.0)),
                answer_max_s: Some(210.0),
            },
            level: 0.5,
        };
        let line = status_line(&status, true, None);
        assert!(
            line.contains("01:15") && line.contains("describe") && line.contains("41 s / 45-75 s"),
            "{line}"
        );
        assert!(line.chars().count() <= 80);
        assert!(status_line(
            &LiveStatus {
                speaking: false,
                ..status.clone()
            },
            false,
            None
        )
        .contains("listening"));
        let nudged = status_line(&status, true, Some("describe past 75 s: move on"));
        assert!(nudged.contains("> describe past 75 s: move on"), "{nudged}");
        assert!(nudged.chars().count() <= 80);
    }

    /// Without a terminal, a cue is printed as soon as it is due, not at the next plain line.
    #[test]
    fn a_cue_is_printed_at_once_and_not_with_nudge_off() {
        let lines_for = |nudge| {
            let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let mut view = LiveView::new(Box::new(Shared(buffer.clone())), false, nudge);
            for (t, seconds) in [(60.0, 70.0), (61.0, 72.0), (66.0, 76.0)] {
                view.update(&describing(t, seconds)).unwrap();
            }
            let text = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
            text
        };
        let nudged = lines_for(NudgeMode::Text);
        assert_eq!(nudged.lines().count(), 2, "{nudged}");
        assert!(nudged.contains("> describe past 75 s: move on"), "{nudged}");
        let quiet = lines_for(NudgeMode::Off);
        assert_eq!(quiet.lines().count(), 1, "{quiet}");
    }

    /// Counts its rings.
    struct CountingChime(std::sync::Arc<std::sync::atomic::AtomicUsize>);

    impl Chime for CountingChime {
        fn ring(&mut self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    #[test]
    fn a_tone_sounds_once_with_each_new_cue_and_never_without_one() {
        let rings = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut view = LiveView::new(Box::new(std::io::sink()), true, NudgeMode::Tone)
            .with_chime(Box::new(CountingChime(rings.clone())));
        // Within budget: no cue, no tone; past it: one tone, however often the line is drawn.
        for (t, seconds) in [
            (50.0, 60.0),
            (60.0, 70.0),
            (66.0, 76.0),
            (67.0, 77.0),
            (68.0, 78.0),
        ] {
            view.update(&describing(t, seconds)).unwrap();
            std::thread::sleep(REDRAW_EVERY);
        }
        assert_eq!(rings.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    /// `t` seconds into the answer, `seconds` of them describing (budget 45-75 s).
    fn describing(t: f64, seconds: f64) -> LiveStatus {
        LiveStatus {
            elapsed_s: t,
            speaking: true,
            part: LivePart {
                label: Some("describe".into()),
                seconds,
                budget: Some((45.0, 75.0)),
                answer_max_s: Some(210.0),
            },
            level: 0.5,
        }
    }

    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
