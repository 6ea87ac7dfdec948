//! Prose output: written into the one string `main` prints, so that a closed pipe or a full
//! disk is the one-line error every command gives, never a panic.

/// `say!(out, "…", args)` appends a line to the `String` `out`; `say!(out)` an empty one.
macro_rules! say {
    ($out:expr) => {
        $out.push('\n')
    };
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        // Writing into a String cannot fail.
        let _ = writeln!($out, $($arg)*);
    }};
}

pub(crate) use say;
