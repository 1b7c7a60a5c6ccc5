//! Belgian provinces and postcodes.
//!
//! Invariant: a [`Postcode`] is always four digits from 1000 to 9999, and its province is a
//! function of it ([`Postcode::province`]); a province given next to a postcode must agree.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::text::alias_key;

/// A Belgian province, or the Brussels-Capital Region, by its ISO 3166-2:BE code.
///
/// The order of the variants is the alphabetical order of the codes; the default sort of a
/// tab (province, postcode, last name) uses it.
///
/// ```
/// use stagematch_core::Province;
/// assert_eq!("Oost-Vlaanderen".parse::<Province>().unwrap(), Province::EastFlanders);
/// assert_eq!("liège".parse::<Province>().unwrap().code(), "WLG");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(u8)]
pub enum Province {
    /// `BRU`, Brussel / Bruxelles.
    Brussels = 0,
    /// `VAN`, Antwerpen / Anvers.
    Antwerp = 1,
    /// `VBR`, Vlaams-Brabant / Brabant flamand.
    FlemishBrabant = 2,
    /// `VLI`, Limburg / Limbourg.
    Limburg = 3,
    /// `VOV`, Oost-Vlaanderen / Flandre orientale.
    EastFlanders = 4,
    /// `VWV`, West-Vlaanderen / Flandre occidentale.
    WestFlanders = 5,
    /// `WBR`, Waals-Brabant / Brabant wallon.
    WalloonBrabant = 6,
    /// `WHT`, Henegouwen / Hainaut.
    Hainaut = 7,
    /// `WLG`, Luik / Liège.
    Liege = 8,
    /// `WLX`, Luxemburg / Luxembourg.
    Luxembourg = 9,
    /// `WNA`, Namen / Namur.
    Namur = 10,
}

impl Province {
    /// Every province, in code order.
    pub const ALL: [Province; 11] = [
        Province::Brussels,
        Province::Antwerp,
        Province::FlemishBrabant,
        Province::Limburg,
        Province::EastFlanders,
        Province::WestFlanders,
        Province::WalloonBrabant,
        Province::Hainaut,
        Province::Liege,
        Province::Luxembourg,
        Province::Namur,
    ];

    /// The ISO 3166-2:BE code without its `BE-` prefix, as the API speaks it.
    pub fn code(self) -> &'static str {
        self.names()[0]
    }

    /// The Dutch name (*provincie*).
    pub fn dutch_name(self) -> &'static str {
        self.names()[1]
    }

    /// The code followed by every accepted name (Dutch, French, English).
    fn names(self) -> &'static [&'static str] {
        match self {
            Province::Brussels => &[
                "BRU",
                "Brussel",
                "Bruxelles",
                "Brussels",
                "Brussels Hoofdstedelijk Gewest",
                "Region de Bruxelles-Capitale",
                "Brussels-Capital Region",
                "Brussels Capital",
            ],
            Province::Antwerp => &["VAN", "Antwerpen", "Anvers", "Antwerp"],
            Province::FlemishBrabant => &[
                "VBR",
                "Vlaams-Brabant",
                "Brabant flamand",
                "Flemish Brabant",
            ],
            Province::Limburg => &["VLI", "Limburg", "Limbourg"],
            Province::EastFlanders => &[
                "VOV",
                "Oost-Vlaanderen",
                "Flandre orientale",
                "East Flanders",
            ],
            Province::WestFlanders => &[
                "VWV",
                "West-Vlaanderen",
                "Flandre occidentale",
                "West Flanders",
            ],
            Province::WalloonBrabant => {
                &["WBR", "Waals-Brabant", "Brabant wallon", "Walloon Brabant"]
            }
            Province::Hainaut => &["WHT", "Henegouwen", "Hainaut"],
            Province::Liege => &["WLG", "Luik", "Liège", "Liege"],
            Province::Luxembourg => &["WLX", "Luxemburg", "Luxembourg"],
            Province::Namur => &["WNA", "Namen", "Namur"],
        }
    }

    /// The province at a dense index (the `repr(u8)` value), if any.
    pub(crate) fn from_index(i: u8) -> Option<Province> {
        Province::ALL.get(i as usize).copied()
    }
}

impl fmt::Display for Province {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Province {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let key = alias_key(s);
        let key = key.strip_prefix("be ").unwrap_or(&key);

        Province::ALL
            .into_iter()
            .find(|p| p.names().iter().any(|n| alias_key(n) == key))
            .ok_or_else(|| Error::invalid("province", s, "is not a Belgian province code or name"))
    }
}

/// A Belgian postcode: four digits, 1000 to 9999.
///
/// ```
/// use stagematch_core::{Postcode, Province};
/// let pc: Postcode = "9500".parse().unwrap();
/// assert_eq!(pc.province(), Province::EastFlanders);
/// assert!("B-1000".parse::<Postcode>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Postcode(u16);

impl Postcode {
    /// The postcode as a number.
    pub fn get(self) -> u16 {
        self.0
    }

    /// The postcode with this number, if it is between 1000 and 9999.
    pub fn new(n: u16) -> Result<Postcode> {
        if (1000..=9999).contains(&n) {
            Ok(Postcode(n))
        } else {
            Err(Error::invalid(
                "postcode",
                &n.to_string(),
                "must be between 1000 and 9999",
            ))
        }
    }

    /// The province the postcode lies in.
    pub fn province(self) -> Province {
        match self.0 {
            1000..=1299 => Province::Brussels,
            1300..=1499 => Province::WalloonBrabant,
            1500..=1999 | 3000..=3499 => Province::FlemishBrabant,
            2000..=2999 => Province::Antwerp,
            3500..=3999 => Province::Limburg,
            4000..=4999 => Province::Liege,
            5000..=5999 => Province::Namur,
            6000..=6599 | 7000..=7999 => Province::Hainaut,
            6600..=6999 => Province::Luxembourg,
            8000..=8999 => Province::WestFlanders,
            _ => Province::EastFlanders,
        }
    }

    /// Checks that `province`, when given, is the province of this postcode.
    pub fn check_province(self, province: Option<Province>) -> Result<()> {
        match province {
            Some(p) if p != self.province() => Err(Error::invalid(
                "province",
                p.code(),
                format!(
                    "does not match postcode {} (which lies in {})",
                    self.0,
                    self.province()
                ),
            )),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Postcode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        if t.len() != 4 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid(
                "postcode",
                s,
                "must be four digits, 1000 to 9999",
            ));
        }

        // Four ASCII digits always fit in a u16.
        let n: u16 = t
            .parse()
            .map_err(|_| Error::invalid("postcode", s, "must be four digits"))?;
        Postcode::new(n).map_err(|_| Error::invalid("postcode", s, "must be between 1000 and 9999"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_range_of_the_domain() {
        let cases = [
            (1000, "BRU"),
            (1299, "BRU"),
            (1300, "WBR"),
            (1499, "WBR"),
            (1500, "VBR"),
            (1999, "VBR"),
            (2000, "VAN"),
            (2999, "VAN"),
            (3000, "VBR"),
            (3499, "VBR"),
            (3500, "VLI"),
            (3999, "VLI"),
            (4000, "WLG"),
            (5000, "WNA"),
            (6000, "WHT"),
            (6599, "WHT"),
            (6600, "WLX"),
            (6999, "WLX"),
            (7000, "WHT"),
            (7999, "WHT"),
            (8000, "VWV"),
            (9000, "VOV"),
            (9999, "VOV"),
        ];
        for (pc, code) in cases {
            assert_eq!(Postcode::new(pc).unwrap().province().code(), code, "{pc}");
        }
    }

    #[test]
    fn bad_postcodes() {
        for bad in [
            "0999", "10000", "B-1000", "", "1 000", "abcd", "+100", "999",
        ] {
            let err = bad.parse::<Postcode>().unwrap_err();
            assert_eq!(err.field(), Some("postcode"), "{bad}");
        }
    }

    #[test]
    fn province_names_in_three_languages() {
        for p in Province::ALL {
            for name in p.names() {
                assert_eq!(name.parse::<Province>().unwrap(), p);
                assert_eq!(name.to_uppercase().parse::<Province>().unwrap(), p);
            }
            assert_eq!(format!("BE-{}", p.code()).parse::<Province>().unwrap(), p);
            assert_eq!(Province::from_index(p as u8), Some(p));
        }
        assert!("Atlantis".parse::<Province>().is_err());
    }

    #[test]
    fn province_must_agree() {
        let pc = Postcode::new(9500).unwrap();
        assert!(pc.check_province(Some(Province::EastFlanders)).is_ok());
        assert!(pc.check_province(None).is_ok());
        assert_eq!(
            pc.check_province(Some(Province::Antwerp))
                .unwrap_err()
                .field(),
            Some("province")
        );
    }
}
