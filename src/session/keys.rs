//! The one key a session listens for at a terminal: `r`, after a report, asks the same question
//! again (saying "try again" does the same hands-free).
//!
//! While the session runs, the terminal is in cbreak mode: keys arrive one at a time and are not
//! echoed, but Ctrl-C still interrupts and printed lines keep their layout. crossterm's raw mode
//! would turn both of those off, so the few terminal settings are changed here directly
//! (rustix's termios, already a dependency). The old settings come back when the watcher drops.

use std::io::{IsTerminal, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use rustix::termios::{
    tcgetattr, tcsetattr, LocalModes, OptionalActions, SpecialCodeIndex, Termios,
};

/// Tenths of a second a read of the keyboard waits before the watcher checks whether it
/// should stop.
const READ_WAIT_TENTHS: u8 = 2;

/// Sets a flag whenever `r` is pressed, until dropped.
pub struct RetryKeyWatcher {
    saved: Termios,
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RetryKeyWatcher {
    /// Starts watching the keyboard, if the standard input is a terminal whose settings can be
    /// read and changed; otherwise (a pipe, a file, a test) there is no key to press: `None`.
    pub fn start(pressed: Arc<AtomicBool>) -> Option<RetryKeyWatcher> {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return None;
        }
        let saved = tcgetattr(&stdin).ok()?;
        let mut cbreak = saved.clone();
        cbreak
            .local_modes
            .remove(LocalModes::ICANON | LocalModes::ECHO);
        cbreak.special_codes[SpecialCodeIndex::VMIN] = 0;
        cbreak.special_codes[SpecialCodeIndex::VTIME] = READ_WAIT_TENTHS;
        tcsetattr(&stdin, OptionalActions::Now, &cbreak).ok()?;
        let done = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&done);
        let thread = std::thread::Builder::new()
            .name("retry-key".into())
            .spawn(move || watch(&pressed, &stop));
        match thread {
            Ok(thread) => Some(RetryKeyWatcher {
                saved,
                done,
                thread: Some(thread),
            }),
            Err(_) => {
                // No thread, no key: put the terminal back as it was.
                let _ = tcsetattr(&stdin, OptionalActions::Now, &saved);
                None
            }
        }
    }
}

impl RetryKeyWatcher {
    /// Puts the terminal's settings back as they were before the watcher started; for a quit
    /// that cannot wait for the watcher to drop (a second Ctrl-C ends the process at once).
    pub fn restorer(&self) -> impl Fn() + Send + 'static {
        let saved = self.saved.clone();
        move || restore(&saved)
    }
}

/// Reads keys until told to stop or the input closes; `r` or `R` sets `pressed`.
fn watch(pressed: &AtomicBool, stop: &AtomicBool) {
    let mut key = [0u8; 16];
    let mut stdin = std::io::stdin();
    while !stop.load(Ordering::Relaxed) {
        match stdin.read(&mut key) {
            // Nothing pressed within the wait; look again.
            Ok(0) => {}
            Ok(n) => {
                if key[..n].iter().any(|&b| b == b'r' || b == b'R') {
                    pressed.store(true, Ordering::Relaxed);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

impl Drop for RetryKeyWatcher {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        restore(&self.saved);
    }
}

/// Puts the terminal's `saved` settings back; best effort: if the terminal is gone there is
/// nothing to restore.
fn restore(saved: &Termios) {
    let _ = tcsetattr(std::io::stdin(), OptionalActions::Now, saved);
}
