//! Text helpers shared by validation, aliases and search.
//!
//! [`fold`] is the one definition of "ignoring case and accents" in stagematch: searching a
//! name, sorting by name and matching a Dutch or French alias all compare folded text, so
//! `Élodie`, `elodie` and `ELODIE` are the same word everywhere.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lowercases `s` and strips accents (`Çelik Ærø` → `celik ærø`).
///
/// ```
/// use stagematch_core::fold;
/// assert_eq!(fold("Élodie Van Dĳck"), "elodie van dijck");
/// ```
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }

    s.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Folds `s` and makes `-`, `_` and runs of white space one space, for alias lookup.
pub(crate) fn alias_key(s: &str) -> String {
    let folded = fold(s.trim());
    let spaced: String = folded
        .chars()
        .map(|c| if c == '-' || c == '_' { ' ' } else { c })
        .collect();

    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks a required name-like field: not empty after trimming, no control characters, at
/// most `max` characters. Returns the trimmed text.
pub(crate) fn required_text(field: &str, value: &str, max: usize) -> crate::Result<String> {
    check_required(field, value, max).map(str::to_owned)
}

/// [`required_text`] without the copy: the trimmed text, borrowed.
pub(crate) fn check_required<'a>(
    field: &str,
    value: &'a str,
    max: usize,
) -> crate::Result<&'a str> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(crate::Error::invalid(field, value, "must not be empty"));
    }

    check_text(field, trimmed, max, false).map(|t| t.unwrap_or_default())
}

/// Checks an optional free-text field: empty means absent, no control characters (line breaks
/// allowed where `multiline`), at most `max` characters. Returns the trimmed text or `None`.
pub(crate) fn optional_text(
    field: &str,
    value: &str,
    max: usize,
    multiline: bool,
) -> crate::Result<Option<String>> {
    check_text(field, value, max, multiline).map(|t| t.map(str::to_owned))
}

/// [`optional_text`] without the copy: the trimmed text, borrowed.
pub(crate) fn check_text<'a>(
    field: &str,
    value: &'a str,
    max: usize,
    multiline: bool,
) -> crate::Result<Option<&'a str>> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }

    let allowed = |c: char| multiline && (c == '\n' || c == '\r' || c == '\t');
    if trimmed.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(crate::Error::invalid(
            field,
            value,
            "must not contain control characters",
        ));
    }

    if trimmed.len() > max && trimmed.chars().count() > max {
        return Err(crate::Error::invalid(
            field,
            value,
            format!("must be at most {max} characters long"),
        ));
    }

    Ok(Some(trimmed))
}

/// Checks an email address for plausible syntax: one `@`, a local part, a domain with a dot,
/// no spaces or control characters, at most 254 characters. Returns it trimmed.
pub(crate) fn email(field: &str, value: &str) -> crate::Result<String> {
    check_email(field, value).map(str::to_owned)
}

/// [`email`] without the copy: the trimmed address, borrowed.
pub(crate) fn check_email<'a>(field: &str, value: &'a str) -> crate::Result<&'a str> {
    let trimmed = value.trim();
    let bad = |reason: &str| Err(crate::Error::invalid(field, value, reason));

    if trimmed.is_empty() {
        return bad("must not be empty");
    }
    if trimmed.len() > 254 {
        return bad("must be at most 254 characters long");
    }
    if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("must not contain spaces or control characters");
    }

    let Some((local, domain)) = trimmed.split_once('@') else {
        return bad("is not an email address (no @)");
    };
    let domain_ok = !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if local.is_empty() || !domain_ok {
        return bad("is not an email address");
    }

    Ok(trimmed)
}

/// Checks a phone number: digits with the usual separators (space `+ / . - ( )`), 6 to 15
/// digits. Returns it trimmed.
pub(crate) fn phone(field: &str, value: &str) -> crate::Result<String> {
    check_phone(field, value).map(str::to_owned)
}

/// [`phone`] without the copy: the trimmed number, borrowed.
pub(crate) fn check_phone<'a>(field: &str, value: &'a str) -> crate::Result<&'a str> {
    let trimmed = value.trim();
    let separators = |c: char| matches!(c, ' ' | '+' | '/' | '.' | '-' | '(' | ')');

    if trimmed
        .chars()
        .any(|c| !c.is_ascii_digit() && !separators(c))
    {
        return Err(crate::Error::invalid(
            field,
            value,
            "may only hold digits, spaces and + / . - ( )",
        ));
    }

    let digits = trimmed.chars().filter(char::is_ascii_digit).count();
    if !(6..=15).contains(&digits) {
        return Err(crate::Error::invalid(
            field,
            value,
            "must hold 6 to 15 digits",
        ));
    }

    Ok(trimmed)
}

/// Checks `value` with `check` and returns the text it accepted, reusing `value`'s buffer
/// when nothing was trimmed: an import of a million rows then copies no field twice.
pub(crate) fn keep<F>(value: String, check: F) -> crate::Result<Option<String>>
where
    F: for<'b> FnOnce(&'b str) -> crate::Result<Option<&'b str>>,
{
    let copy = match check(&value)? {
        None => return Ok(None),
        Some(t) if t.len() == value.len() => None,
        Some(t) => Some(t.to_owned()),
    };

    Ok(Some(copy.unwrap_or(value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_strips_accents_and_case() {
        assert_eq!(fold("ÉLÈVE Çà"), "eleve ca");
        assert_eq!(fold("plain"), "plain");
    }

    #[test]
    fn alias_key_unifies_separators() {
        assert_eq!(alias_key("  Oost-Vlaanderen "), "oost vlaanderen");
        assert_eq!(alias_key("not_accepted"), "not accepted");
        assert_eq!(alias_key("Niet   Aanvaard"), "niet aanvaard");
    }

    #[test]
    fn emails() {
        assert!(email("email", "an.peeters@school.be").is_ok());
        for bad in [
            "", "a@b", "a b@c.be", "@c.be", "a@@c.be", "a@.be", "a@c..be", "a@c.be.",
        ] {
            assert_eq!(
                email("email", bad).unwrap_err().field(),
                Some("email"),
                "{bad}"
            );
        }
    }

    #[test]
    fn phones() {
        assert!(phone("phone", "02/250 37 77").is_ok());
        assert!(phone("phone", "+32 470 12 34 56").is_ok());
        for bad in [
            "12345",
            "abc1234567",
            "0470 12 34 56 78 90 12",
            "047012345\u{0}",
        ] {
            assert!(phone("phone", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn texts() {
        assert!(required_text("first_name", "  ", 10).is_err());
        assert!(required_text("first_name", "a\u{7}b", 10).is_err());
        assert!(required_text("first_name", "abcdefghijk", 10).is_err());
        assert_eq!(required_text("first_name", " An ", 10).unwrap(), "An");
        assert_eq!(
            optional_text("remarks", "a\nb", 10, true)
                .unwrap()
                .as_deref(),
            Some("a\nb")
        );
        assert!(optional_text("street", "a\nb", 10, false).is_err());
    }
}
