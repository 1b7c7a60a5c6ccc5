//! The Belgian national register number (*rijksregisternummer*) and bis number.
//!
//! Invariant: a [`NationalNumber`] holds exactly eleven digits whose check digits are right
//! for the century they imply, and whose birth date exists in that century.
//!
//! The number is `YYMMDD SSS CC`: birth date, a serial number, and a check number equal to
//! 97 minus the first nine digits mod 97. For people born in 2000 or later the check uses a
//! `2` in front of the nine digits, which is how the century is known. Bis numbers (for people
//! not in the national register) add 20 or 40 to the month. A birth date the register does not
//! know is written with day `00`, or month and day `00`; both are accepted.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A validated national register number or bis number, stored as its eleven digits.
///
/// ```
/// use stagematch_core::NationalNumber;
/// let n: NationalNumber = "85.07.30-033.28".parse().unwrap();
/// assert_eq!(n.digits(), "85073003328");
/// assert_eq!(n.birth_year(), 1985);
/// assert!("85.07.30-033.29".parse::<NationalNumber>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NationalNumber(String);

impl TryFrom<String> for NationalNumber {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<NationalNumber> for String {
    fn from(n: NationalNumber) -> String {
        n.0
    }
}

impl NationalNumber {
    /// The eleven digits, without separators.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// The year of birth the number implies (its century follows from the check digits).
    pub fn birth_year(&self) -> i32 {
        let yy: i32 = self.0[0..2].parse().unwrap_or(0);
        if self.born_2000_or_later() {
            2000 + yy
        } else {
            1900 + yy
        }
    }

    /// Whether this is a bis number (month plus 20 or 40).
    pub fn is_bis(&self) -> bool {
        let mm: u32 = self.0[2..4].parse().unwrap_or(0);
        mm >= 20
    }

    fn born_2000_or_later(&self) -> bool {
        let (base, check) = split(&self.0);
        check_digits(base, false) != check && check_digits(base, true) == check
    }

    /// The number in its usual printed form `YY.MM.DD-SSS.CC`.
    pub fn formatted(&self) -> String {
        let d = &self.0;
        format!(
            "{}.{}.{}-{}.{}",
            &d[0..2],
            &d[2..4],
            &d[4..6],
            &d[6..9],
            &d[9..11]
        )
    }
}

/// Splits eleven digits into the first nine as a number and the last two as a number.
fn split(digits: &str) -> (u64, u64) {
    let base = digits[0..9].parse().unwrap_or(0);
    let check = digits[9..11].parse().unwrap_or(0);
    (base, check)
}

/// The check number for `base` (the first nine digits) in either century.
fn check_digits(base: u64, born_2000_or_later: bool) -> u64 {
    let n = if born_2000_or_later {
        2_000_000_000 + base
    } else {
        base
    };
    97 - n % 97
}

impl fmt::Display for NationalNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.formatted())
    }
}

impl FromStr for NationalNumber {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        const FIELD: &str = "national_number";
        // A mistyped number is still mostly the person's number: errors never repeat it.
        let shown = "";
        let digits: String = s
            .chars()
            .filter(|c| !matches!(c, '.' | '-' | ' '))
            .collect();

        if digits.len() != 11 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid(
                FIELD,
                shown,
                "must be 11 digits (YY.MM.DD-SSS.CC, separators optional)",
            ));
        }

        let (base, check) = split(&digits);
        let century = if check_digits(base, false) == check {
            1900
        } else if check_digits(base, true) == check {
            2000
        } else {
            return Err(Error::invalid(FIELD, shown, "has wrong check digits"));
        };

        let yy: i32 = digits[0..2].parse().unwrap_or(0);
        let mut mm: u32 = digits[2..4].parse().unwrap_or(0);
        let dd: u32 = digits[4..6].parse().unwrap_or(0);
        if mm >= 40 {
            mm -= 40;
        } else if mm >= 20 {
            mm -= 20;
        }

        let date_known = mm != 0 && dd != 0;
        // Day 00 (or month and day 00) stands for a birth date the register does not know.
        let unknown_ok = dd == 0 && mm <= 12;
        let exists = date_known && NaiveDate::from_ymd_opt(century + yy, mm, dd).is_some();
        if !exists && !unknown_ok {
            return Err(Error::invalid(
                FIELD,
                shown,
                format!(
                    "holds no real birth date for someone born in {}",
                    century + yy
                ),
            ));
        }

        Ok(NationalNumber(digits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a valid number from its first nine digits.
    fn make(nine: &str, after_2000: bool) -> String {
        let base: u64 = nine.parse().unwrap();
        format!("{nine}{:02}", check_digits(base, after_2000))
    }

    #[test]
    fn both_centuries() {
        let old: NationalNumber = make("850730033", false).parse().unwrap();
        assert_eq!(old.birth_year(), 1985);
        let new: NationalNumber = make("050730033", true).parse().unwrap();
        assert_eq!(new.birth_year(), 2005);
        assert!(!new.is_bis());
    }

    #[test]
    fn bis_numbers() {
        let bis20: NationalNumber = make("852730033", false).parse().unwrap();
        assert!(bis20.is_bis());
        assert!(make("854730033", false).parse::<NationalNumber>().is_ok());
        assert!(make("856730033", false).parse::<NationalNumber>().is_err());
    }

    #[test]
    fn separators_and_format() {
        let n: NationalNumber = "85 07 30 033 28".parse().unwrap();
        assert_eq!(n.formatted(), "85.07.30-033.28");
    }

    #[test]
    fn wrong_century_for_the_date() {
        // 29 February 1900 does not exist, 29 February 2000 does.
        assert!(make("000229001", false).parse::<NationalNumber>().is_err());
        assert!(make("000229001", true).parse::<NationalNumber>().is_ok());
    }

    #[test]
    fn bad_numbers() {
        let bad = [
            "85073003329",             // check digits
            "8507300332",              // ten digits
            "850730033288",            // twelve digits
            "85a73003328",             // letter
            &make("851330033", false), // month 13
            &make("850732033", false), // day 32
            &make("850231033", false), // 31 February
            &make("850030033", false), // month 00 with a day
            "",
        ];
        for b in bad {
            let err = b.parse::<NationalNumber>().unwrap_err();
            assert_eq!(err.field(), Some("national_number"), "{b}");
        }
    }

    #[test]
    fn unknown_birth_dates() {
        assert!(make("850700033", false).parse::<NationalNumber>().is_ok());
        assert!(make("850000033", false).parse::<NationalNumber>().is_ok());
    }
}
