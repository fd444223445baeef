//! The reader.conf entries pcscd needs for N virtual cards, and
//! `tapfido vpcd-config --cards N [--port P]` which prints them.
//!
//! One vpcd entry gives two readers (slots) that listen on TCP `CHANNELID`
//! and `CHANNELID + 1`; N cards need `ceil(N / 2)` entries, entry `k` on
//! `PORT + 2k`, so card `i` connects to `PORT + i` — the numbering of
//! `tapfido card --vpcd HOST:PORT --cards N`.
//!
//! ```text
//! FRIENDLYNAME "Virtual PCD"          entry 0: readers "Virtual PCD 00 00", "Virtual PCD 00 01"
//! DEVICENAME   /dev/null:0x8C7B       /dev/null = vpcd listens, the card connects
//! LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
//! CHANNELID    0x8C7B                 35963 (35963 and 35964)
//!
//! FRIENDLYNAME "Virtual PCD 1"        entry 1: "Virtual PCD 1 00 00", "Virtual PCD 1 00 01"
//! DEVICENAME   /dev/null:0x8C7D
//! LIBPATH      <copies>/libifdvpcd-1.so
//! CHANNELID    0x8C7D
//! ```
//!
//! Two measured constraints of pcsc-lite 1.9.9 + vpcd 3.3 shape this:
//! - vpcd keeps its connections in one array indexed by the slot number
//!   alone, so two entries loading the *same* library file overwrite each
//!   other's slots (only one card of each slot pair answers). Every entry
//!   after the first therefore loads its own copy of the driver.
//! - pcsc-lite does not number readers of equal FRIENDLYNAME from different
//!   entries: both would be called `Virtual PCD 00 00`. Entry `k > 0` is
//!   named `Virtual PCD k`; entry 0 keeps Debian's names.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::cli::CliError;

/// Where Debian installs vpcd's pcsc-lite driver.
pub const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";

/// vpcd's default first port (`CHANNELID 0x8C7B`).
pub const DEFAULT_PORT: u16 = 35963;

/// Readers (slots) per vpcd entry.
pub const SLOTS_PER_ENTRY: u16 = 2;

/// The most cards `tapfido run` and `tapfido vpcd-config` plan for (pcscd
/// 1.9.9 has 16 reader contexts).
pub const MAX_CARDS: u16 = 16;

/// One vpcd entry of reader.conf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VpcdEntry {
    /// `FRIENDLYNAME`.
    pub friendly_name: String,
    /// `CHANNELID`: the first of the entry's two ports.
    pub port: u16,
    /// `LIBPATH`.
    pub library: PathBuf,
}

impl VpcdEntry {
    /// The names pcscd gives the entry's two readers.
    pub fn reader_names(&self) -> [String; 2] {
        [
            format!("{} 00 00", self.friendly_name),
            format!("{} 00 01", self.friendly_name),
        ]
    }

    /// The entry as reader.conf text (ends with a newline).
    pub fn to_conf(&self) -> String {
        format!(
            "FRIENDLYNAME \"{}\"\nDEVICENAME   /dev/null:0x{:04X}\nLIBPATH      {}\nCHANNELID    0x{:04X}\n",
            self.friendly_name,
            self.port,
            self.library.display(),
            self.port
        )
    }
}

/// The vpcd entries and readers for `cards` cards from `first_port` on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VpcdPlan {
    /// The entries, one per two cards.
    pub entries: Vec<VpcdEntry>,
    /// `(reader name, port)` of each card, card `i` at index `i`.
    pub cards: Vec<(String, u16)>,
}

/// Plan `cards` cards from `first_port`: entry `k` listens on
/// `first_port + 2k` and `+ 1`; entry 0 loads `driver`, entry `k > 0`
/// loads `copies/libifdvpcd-k.so`.
pub fn plan(cards: u16, first_port: u16, driver: &Path, copies: &Path) -> Result<VpcdPlan, String> {
    if cards == 0 || cards > MAX_CARDS {
        return Err(format!("--cards must be 1 to {MAX_CARDS}, not {cards}"));
    }
    let ports_needed = cards.div_ceil(SLOTS_PER_ENTRY) * SLOTS_PER_ENTRY;
    if u32::from(first_port) + u32::from(ports_needed) - 1 > u32::from(u16::MAX) || first_port == 0
    {
        return Err(format!(
            "port {first_port}: {cards} cards need ports {first_port} to {}, beyond 65535",
            u32::from(first_port) + u32::from(ports_needed) - 1
        ));
    }
    let mut entries = Vec::new();
    let mut readers = Vec::new();
    for k in 0..cards.div_ceil(SLOTS_PER_ENTRY) {
        let entry = VpcdEntry {
            friendly_name: friendly_name(k),
            port: first_port + k * SLOTS_PER_ENTRY,
            library: if k == 0 {
                driver.to_path_buf()
            } else {
                driver_copy(copies, k)
            },
        };
        let [a, b] = entry.reader_names();
        readers.push((a, entry.port));
        readers.push((b, entry.port + 1));
        entries.push(entry);
    }
    readers.truncate(usize::from(cards));
    Ok(VpcdPlan {
        entries,
        cards: readers,
    })
}

/// `FRIENDLYNAME` of entry `k`.
pub fn friendly_name(k: u16) -> String {
    if k == 0 {
        "Virtual PCD".to_owned()
    } else {
        format!("Virtual PCD {k}")
    }
}

/// Where entry `k > 0` expects its copy of the driver.
pub fn driver_copy(copies: &Path, k: u16) -> PathBuf {
    copies.join(format!("libifdvpcd-{k}.so"))
}

/// Arguments of `tapfido vpcd-config`.
#[derive(Debug, Args)]
pub struct VpcdConfigArgs {
    /// Plan for N cards (two per vpcd entry).
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub cards: u16,
    /// First TCP port; card i connects to PORT + i.
    #[arg(long, value_name = "P", default_value_t = DEFAULT_PORT)]
    pub port: u16,
    /// vpcd's pcsc-lite driver.
    #[arg(long, value_name = "PATH", default_value = VPCD_DRIVER)]
    pub driver: PathBuf,
    /// Directory for the driver copies of entries 1 and up.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "/usr/local/lib/tapfido/vpcd"
    )]
    pub copies: PathBuf,
}

/// The text `tapfido vpcd-config` prints: comments saying what to do, then
/// the entries.
pub fn render(args: &VpcdConfigArgs) -> Result<String, String> {
    let plan = plan(args.cards, args.port, &args.driver, &args.copies)?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# reader.conf for {} tapfido card(s): save as /etc/reader.conf.d/vpcd (replacing\n\
         # Debian's) and restart pcscd, or let `tapfido run` use it in a private pcscd.",
        args.cards
    );
    if plan.entries.len() > 1 {
        let _ = writeln!(
            out,
            "# vpcd keeps one connection per slot number in its library: every entry after the\n\
             # first needs its own copy of the driver, made with:\n\
             #   mkdir -p {dir}",
            dir = args.copies.display()
        );
        for entry in &plan.entries[1..] {
            let _ = writeln!(
                out,
                "#   cp {} {}",
                args.driver.display(),
                entry.library.display()
            );
        }
    }
    let _ = writeln!(
        out,
        "# Cards: tapfido card --vpcd 127.0.0.1:{} --cards {}",
        args.port, args.cards
    );
    for (i, (reader, port)) in plan.cards.iter().enumerate() {
        let _ = writeln!(out, "#   card {i}: reader \"{reader}\", TCP {port}");
    }
    for entry in &plan.entries {
        out.push('\n');
        out.push_str(&entry.to_conf());
    }
    Ok(out)
}

/// Run `tapfido vpcd-config`.
pub fn run(args: &VpcdConfigArgs) -> Result<(), CliError> {
    let text = render(args).map_err(CliError::Usage)?;
    print!("{text}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_cards_are_one_entry_with_debians_names_and_ports() {
        let p = plan(2, DEFAULT_PORT, Path::new(VPCD_DRIVER), Path::new("/c")).unwrap();
        assert_eq!(p.entries.len(), 1);
        assert_eq!(
            p.entries[0].to_conf(),
            "FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME   /dev/null:0x8C7B\n\
             LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID    0x8C7B\n"
        );
        assert_eq!(
            p.cards,
            vec![
                ("Virtual PCD 00 00".to_owned(), 35963),
                ("Virtual PCD 00 01".to_owned(), 35964)
            ]
        );
    }

    #[test]
    fn sixteen_cards_are_eight_entries_each_with_its_own_driver_copy() {
        let p = plan(16, 20000, Path::new("/d/vpcd.so"), Path::new("/c")).unwrap();
        assert_eq!(p.entries.len(), 8);
        for (k, e) in p.entries.iter().enumerate() {
            assert_eq!(usize::from(e.port), 20000 + 2 * k);
            let expected = if k == 0 {
                PathBuf::from("/d/vpcd.so")
            } else {
                PathBuf::from(format!("/c/libifdvpcd-{k}.so"))
            };
            assert_eq!(e.library, expected);
        }
        assert_eq!(p.cards.len(), 16);
        for (i, (_, port)) in p.cards.iter().enumerate() {
            assert_eq!(usize::from(*port), 20000 + i, "card {i} is on PORT + {i}");
        }
        assert_eq!(p.cards[15].0, "Virtual PCD 7 00 01");
        let names: std::collections::BTreeSet<_> = p.cards.iter().map(|c| &c.0).collect();
        assert_eq!(names.len(), 16, "reader names are unique");
    }

    #[test]
    fn an_odd_count_lists_only_the_cards() {
        let p = plan(3, 30000, Path::new(VPCD_DRIVER), Path::new("/c")).unwrap();
        assert_eq!(p.entries.len(), 2);
        assert_eq!(p.cards.len(), 3);
        assert_eq!(p.cards[2], ("Virtual PCD 1 00 00".to_owned(), 30002));
    }

    #[test]
    fn out_of_range_is_refused() {
        assert!(plan(0, 30000, Path::new("x"), Path::new("c")).is_err());
        assert!(plan(17, 30000, Path::new("x"), Path::new("c")).is_err());
        assert!(plan(4, 65533, Path::new("x"), Path::new("c")).is_err());
        assert!(plan(4, 65532, Path::new("x"), Path::new("c")).is_ok());
    }

    #[test]
    fn render_prints_the_copy_commands_and_every_entry() {
        let args = VpcdConfigArgs {
            cards: 4,
            port: 35963,
            driver: PathBuf::from(VPCD_DRIVER),
            copies: PathBuf::from("/usr/local/lib/tapfido/vpcd"),
        };
        let text = render(&args).unwrap();
        assert!(text.contains(
            "#   cp /usr/lib/pcsc/drivers/serial/libifdvpcd.so /usr/local/lib/tapfido/vpcd/libifdvpcd-1.so"
        ));
        assert!(text.contains("CHANNELID    0x8C7D\n"));
        assert_eq!(text.matches("FRIENDLYNAME").count(), 2);
    }
}
