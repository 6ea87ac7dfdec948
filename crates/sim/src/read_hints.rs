//! What a fork check of a sender's op read, kept per chain and sender, so that the next check
//! of that sender — on a fork of a later block too — asks for it in its first batch instead of
//! learning it run by run. On a node answering the basic methods only (no access list, no
//! prestate trace) this is what keeps a cold check of a known account at one or two round
//! trips.
//!
//! Hints live in the process and, where the fork keeps code on disk, beside the code: in
//! `<code cache>/reads-<chain id>/<sender>`, one read per line (`a <address>` for an account,
//! `s <address> <slot>` for a slot). A hint is only a guess: a stale one costs an item in a
//! batch, never a wrong answer (every read is made at the pinned block), and a file that does
//! not parse is no hint at all.

use std::{
    collections::HashMap,
    path::Path,
    sync::{Mutex, OnceLock},
};

use alloy_primitives::{Address, U256};

use crate::fork::{Wanted, lock, write_atomically};

/// The most reads kept for one sender: past it, only the last check's reads are kept.
pub(crate) const MAX_READS: usize = 4096;

/// Hints by (chain id, sender), shared by every fork of the process.
fn memory() -> &'static Mutex<HashMap<(u64, Address), Wanted>> {
    static HINTS: OnceLock<Mutex<HashMap<(u64, Address), Wanted>>> = OnceLock::new();
    HINTS.get_or_init(Default::default)
}

fn file(dir: &Path, chain_id: u64, sender: Address) -> std::path::PathBuf {
    dir.join(format!("reads-{chain_id}")).join(format!("{sender:x}"))
}

/// The reads kept for `sender` on `chain_id`: from memory, else from `dir`.
pub(crate) fn load(dir: Option<&Path>, chain_id: u64, sender: Address) -> Wanted {
    if let Some(hints) = lock(memory()).get(&(chain_id, sender)) {
        return hints.clone();
    }
    let Some(text) = dir.and_then(|d| std::fs::read_to_string(file(d, chain_id, sender)).ok())
    else {
        return Wanted::default();
    };
    let hints = parse(&text).unwrap_or_default();
    lock(memory()).insert((chain_id, sender), hints.clone());
    hints
}

/// Adds `reads` to what is kept for `sender` on `chain_id` (only `reads` when the two together
/// pass [`MAX_READS`]), in memory and in `dir` (best effort: hints that cannot be written only
/// cost round trips).
pub(crate) fn keep(dir: Option<&Path>, chain_id: u64, sender: Address, reads: &Wanted) {
    if reads.accounts.is_empty() && reads.slots.is_empty() {
        // A warm check: nothing new (and nothing cloned).
        return;
    }
    let mut kept = load(dir, chain_id, sender);
    let before = (kept.accounts.len(), kept.slots.len());
    kept.accounts.extend(&reads.accounts);
    kept.slots.extend(&reads.slots);
    if kept.accounts.len() + kept.slots.len() > MAX_READS {
        kept = Wanted {
            accounts: reads.accounts.clone(),
            slots: reads.slots.clone(),
            ..Default::default()
        };
    } else if (kept.accounts.len(), kept.slots.len()) == before {
        return;
    }
    if let Some(dir) = dir {
        let path = file(dir, chain_id, sender);
        if let (Some(parent), Some(name)) = (path.parent(), path.file_name()) {
            let _ = write_atomically(parent, &name.to_string_lossy(), render(&kept).as_bytes());
        }
    }
    lock(memory()).insert((chain_id, sender), kept);
}

fn render(hints: &Wanted) -> String {
    let mut text = String::new();
    for account in &hints.accounts {
        text.push_str(&format!("a {account:x}\n"));
    }
    for (account, slot) in &hints.slots {
        text.push_str(&format!("s {account:x} {slot:#x}\n"));
    }
    text
}

/// The reads in `text`; `None` when any line is not one.
fn parse(text: &str) -> Option<Wanted> {
    let mut hints = Wanted::default();
    for line in text.lines() {
        let mut words = line.split(' ');
        match (words.next(), words.next(), words.next(), words.next()) {
            (Some("a"), Some(account), None, None) => {
                hints.accounts.insert(account.parse().ok()?);
            }
            (Some("s"), Some(account), Some(slot), None) => {
                let slot = U256::from_str_radix(slot.strip_prefix("0x")?, 16).ok()?;
                hints.slots.insert((account.parse().ok()?, slot));
            }
            _ => return None,
        }
    }
    (hints.accounts.len() + hints.slots.len() <= MAX_READS).then_some(hints)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(accounts: &[u8], slots: &[(u8, u64)]) -> Wanted {
        Wanted {
            accounts: accounts.iter().map(|b| Address::repeat_byte(*b)).collect(),
            slots: slots.iter().map(|(b, s)| (Address::repeat_byte(*b), U256::from(*s))).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn hints_add_up_per_chain_and_sender_and_survive_the_process() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (chain, sender) = (0x5eed_0001, Address::repeat_byte(0xa1));
        keep(Some(dir.path()), chain, sender, &reads(&[1, 2], &[(1, 7)]));
        keep(Some(dir.path()), chain, sender, &reads(&[2, 3], &[(3, u64::MAX)]));
        let both = reads(&[1, 2, 3], &[(1, 7), (3, u64::MAX)]);
        assert_eq!(load(Some(dir.path()), chain, sender), both);
        // Another process: only the file.
        lock(memory()).remove(&(chain, sender));
        assert_eq!(load(Some(dir.path()), chain, sender), both);
        assert!(load(Some(dir.path()), chain + 1, sender).is_empty(), "per chain");
        assert!(load(Some(dir.path()), chain, Address::repeat_byte(0xa2)).is_empty(), "per sender");
    }

    #[test]
    fn past_the_cap_only_the_last_checks_reads_are_kept() {
        let (chain, sender) = (0x5eed_0002, Address::repeat_byte(0xa3));
        let many = Wanted {
            slots: (0..MAX_READS as u64)
                .map(|s| (Address::repeat_byte(1), U256::from(s)))
                .collect(),
            ..Default::default()
        };
        keep(None, chain, sender, &many);
        assert_eq!(load(None, chain, sender).slots.len(), MAX_READS);
        let last = reads(&[9], &[(9, 1)]);
        keep(None, chain, sender, &last);
        assert_eq!(load(None, chain, sender), last);
    }

    #[test]
    fn a_garbled_file_is_no_hint() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (chain, sender) = (0x5eed_0003, Address::repeat_byte(0xa4));
        let path = file(dir.path(), chain, sender);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        for garbled in ["a 0x12\n", "s 0101010101010101010101010101010101010101 7\n", "x\n"] {
            std::fs::write(&path, garbled).expect("writes");
            lock(memory()).remove(&(chain, sender));
            assert!(load(Some(dir.path()), chain, sender).is_empty(), "{garbled:?}");
        }
        let good = render(&reads(&[1], &[(1, 2)]));
        assert_eq!(parse(&good), Some(reads(&[1], &[(1, 2)])));
    }
}
