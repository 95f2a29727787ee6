//! The live view while the candidate speaks: elapsed time, the part the analysis thinks they are
//! in against that part's budget, and an input level meter. On a terminal it is one line redrawn
//! in place (crossterm: portable cursor and colour control); elsewhere a plain line every few
//! seconds, so logs and pipes stay readable.

use std::io::Write;
use std::time::{Duration, Instant};

use crossterm::{cursor, style, terminal, QueueableCommand};

use crate::session::listen::LivePart;

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
}

impl LiveView {
    /// `terminal`: redraw one line in place; otherwise print a plain line now and then.
    pub fn new(out: Box<dyn Write + Send>, terminal: bool) -> LiveView {
        LiveView {
            out,
            terminal,
            last: None,
            drawn: false,
        }
    }

    pub fn update(&mut self, status: &LiveStatus) -> std::io::Result<()> {
        let period = if self.terminal {
            REDRAW_EVERY
        } else {
            PLAIN_EVERY
        };
        if self.last.is_some_and(|t| t.elapsed() < period) {
            return Ok(());
        }
        self.last = Some(Instant::now());
        let line = status_line(status, self.terminal);
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
        self.out.flush()
    }
}

fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    format!("{:02}:{:02}", s / 60, s % 60)
}

/// One status line, at most 80 columns.
pub fn status_line(status: &LiveStatus, meter: bool) -> String {
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
    line
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
            },
            level: 0.5,
        };
        let line = status_line(&status, true);
        assert!(
            line.contains("01:15") && line.contains("describe") && line.contains("41 s / 45-75 s"),
            "{line}"
        );
        assert!(line.chars().count() <= 80);
        assert!(status_line(
            &LiveStatus {
                speaking: false,
                ..status
            },
            false
        )
        .contains("listening"));
    }
}
