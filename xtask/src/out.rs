//! Standard output for a command line that is often piped (`cargo xtask show <trap> | head`):
//! when the reader goes away, the command stops quietly with exit code 0 instead of panicking
//! the way `println!` does on a closed pipe.

use std::io::{self, Write};

/// Writes `text` to standard output; a closed pipe ends the process quietly.
pub fn write(text: std::fmt::Arguments<'_>) {
    let mut stdout = io::stdout().lock();
    let result = stdout.write_fmt(text).and_then(|()| stdout.flush());
    match result {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
        // Any other failure to write (a full disk behind a redirect) is reported once.
        Err(error) => {
            eprintln!("error: cannot write to standard output: {error}");
            std::process::exit(1);
        }
    }
}

/// `print!` that survives a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => { $crate::out::write(format_args!($($arg)*)) };
}

/// `println!` that survives a closed pipe.
macro_rules! outln {
    () => { $crate::out::write(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::out::write(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {out, outln};
