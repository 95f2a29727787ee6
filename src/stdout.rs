//! Standard output that never panics. `println!` panics when stdout is a closed pipe
//! (`rehearse history | head -1`) or a full disk; rehearse writes through these instead, so a
//! closed pipe ends a command quietly with exit 0 (as ripgrep does, `is_closed_pipe`) and any
//! other write error is one `error:` line. A session keeps recording when its stdout goes away
//! (`Forgiving`): the recording, not the printout, is what the session is for.

use std::io::{ErrorKind, Write};

/// `print!` that returns `anyhow::Result` instead of panicking.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!($($arg)*))
    };
}

/// `println!` that returns `anyhow::Result` instead of panicking.
#[macro_export]
macro_rules! outln {
    () => {
        $crate::stdout::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Writes to stdout, naming stdout in the error.
pub fn write(text: std::fmt::Arguments) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_fmt(text)
        .and_then(|()| stdout.flush())
        .map_err(|e| anyhow::Error::new(e).context("cannot write to standard output"))
}

/// Whether an error came from writing into a pipe whose reader has gone: the reader has all it
/// wanted, so the command ends quietly.
pub fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == ErrorKind::BrokenPipe)
    })
}

/// A writer that stops writing after its first error instead of failing its caller: a session
/// whose terminal or pipe goes away goes on listening and saving. The first error is reported
/// once on stderr.
pub struct Forgiving<W> {
    inner: W,
    failed: bool,
}

impl<W: Write> Forgiving<W> {
    pub fn new(inner: W) -> Forgiving<W> {
        Forgiving {
            inner,
            failed: false,
        }
    }

    fn give_up(&mut self, error: &std::io::Error) {
        if !self.failed && error.kind() != ErrorKind::BrokenPipe {
            eprintln!("warning: cannot write to standard output ({error}); the session goes on and saves everything");
        }
        self.failed = true;
    }
}

impl<W: Write> Write for Forgiving<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.failed {
            if let Err(e) = self.inner.write_all(buf) {
                self.give_up(&e);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.failed {
            if let Err(e) = self.inner.flush() {
                self.give_up(&e);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails every write, as a closed pipe does.
    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from(ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::Error::from(ErrorKind::BrokenPipe))
        }
    }

    #[test]
    fn a_forgiving_writer_keeps_its_caller_going_after_the_pipe_closes() {
        let mut out = Forgiving::new(Closed);
        assert!(writeln!(out, "Question 1").is_ok());
        assert!(out.flush().is_ok());
        assert!(out.failed);
        let mut kept = Forgiving::new(Vec::new());
        writeln!(kept, "Question 1").unwrap();
        assert_eq!(kept.inner, b"Question 1\n");
    }

    #[test]
    fn a_closed_pipe_is_told_from_other_write_errors() {
        let closed = anyhow::Error::new(std::io::Error::from(ErrorKind::BrokenPipe))
            .context("cannot write to standard output");
        let full = anyhow::Error::new(std::io::Error::from(ErrorKind::StorageFull))
            .context("cannot write to standard output");
        assert!(is_closed_pipe(&closed));
        assert!(!is_closed_pipe(&full));
    }
}
