//! Logins, sessions, invitations, password resets and the outbox (*logins en mailings*).
//!
//! The coordinator creates logins (an email address and a role); a login activates itself
//! with the single-use token of its invitation by choosing a password, and signs in for a
//! session. This module holds the pieces that need no store: the roles, the records as they
//! are kept in the file, the secrets (tokens, password hashes) and the messages' texts. The
//! store ([`crate::Store`]) keeps them and enforces the rules.
//!
//! Invariants kept here:
//! - a token is 256 bits from the operating system's generator, handed out once and kept only
//!   as its SHA-256 digest; digests are compared in constant time;
//! - a password is kept only as an argon2id hash in PHC form, with at least OWASP's parameters
//!   (19 MiB, 2 passes, 1 lane), and is between [`MIN_PASSWORD`] and [`MAX_PASSWORD`]
//!   characters long;
//! - an email address is compared in lower case.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::codes::code_enum;
use crate::error::{Error, Result};
use crate::ids::{SchoolId, ServiceId};

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD: usize = 10;
/// The longest password accepted, in characters (a cap, so that hashing stays bounded).
pub const MAX_PASSWORD: usize = 256;
/// How long an invitation stays valid.
pub const INVITATION_DAYS: i64 = 7;
/// How long a password reset stays valid.
pub const RESET_MINUTES: i64 = 30;
/// A session that saw no use for this long has ended.
pub const SESSION_IDLE_MINUTES: i64 = 30;
/// Failed sign-ins (for one email address) before each further attempt must wait.
pub const FREE_FAILURES: u32 = 5;
/// The longest wait between sign-in attempts after repeated failures, in seconds.
pub const MAX_WAIT_SECONDS: i64 = 15 * 60;

/// What a login may do (*rol*).
///
/// ```
/// use stagematch_core::{Role, ServiceId};
/// let role = Role::Service("svc-2".parse()?);
/// assert_eq!(role.to_string(), "service svc-2");
/// # Ok::<(), stagematch_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// The coordinator (VIVO, *beheerder*): everything.
    Coordinator,
    /// A login of a service (*dienst*): its own tabs, decisions and contact persons.
    Service(ServiceId),
    /// A login of a school: its own students.
    School(SchoolId),
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Role::Coordinator => f.write_str("coordinator"),
            Role::Service(s) => write!(f, "service {s}"),
            Role::School(s) => write!(f, "school {s}"),
        }
    }
}

/// A login as the coordinator sees it: no secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// The email address, in lower case.
    pub email: String,
    /// What it may do.
    pub role: Role,
    /// Whether it chose a password (activated its invitation).
    pub active: bool,
    /// When the coordinator created it.
    pub created_at: DateTime<Utc>,
}

/// A login as the file keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LoginRecord {
    pub email: String,
    pub role: Role,
    /// The password's argon2id hash in PHC form; `None` until the invitation is used.
    pub password: Option<String>,
    pub created_micros: i64,
    /// The digest of the current invitation or reset token, if one is outstanding.
    pub token: Option<[u8; 32]>,
    /// The one session of this login.
    pub session: Option<SessionRecord>,
}

impl LoginRecord {
    pub(crate) fn public(&self) -> Login {
        Login {
            email: self.email.clone(),
            role: self.role,
            active: self.password.is_some(),
            created_at: crate::calendar::from_micros(self.created_micros),
        }
    }
}

/// The session of a login, as the file keeps it: the digest of its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SessionRecord {
    pub digest: [u8; 32],
    pub started_micros: i64,
    /// The last use written to the file (uses in between are kept in memory).
    pub seen_micros: i64,
}

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum TokenKind {
    Invitation,
    Reset,
}

/// An outstanding token, as the file keeps it (under its digest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TokenRecord {
    pub email: String,
    pub kind: TokenKind,
    pub expires_micros: i64,
}

code_enum!(
    /// What a message of the outbox is about.
    ///
    /// ```
    /// use stagematch_core::MessageKind;
    /// assert_eq!(MessageKind::RoundStart.code(), "round_start");
    /// ```
    MessageKind, "kind", "message kind" {
        /// An invitation to activate a new login (*uitnodiging*).
        Invitation = "invitation" ["uitnodiging"],
        /// A link to choose a new password (*paswoord vergeten*).
        PasswordReset = "password_reset" ["reset", "paswoord vergeten"],
        /// A round opened (*start van een ronde*).
        RoundStart = "round_start" ["start"],
        /// A round closed (*afsluit van een ronde*).
        RoundClose = "round_close" ["afsluit"],
        /// How many requests are still open for a service (*herinnering*).
        Reminder = "reminder" ["herinnering"],
    }
);

/// A message for the host to deliver: the library sends no mail itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// What it is about.
    pub kind: MessageKind,
    /// The recipient's email address.
    pub to: String,
    /// The subject line, in Dutch.
    pub subject: String,
    /// The text, in Dutch.
    pub body: String,
    /// When it was produced, in microseconds since the Unix epoch (UTC).
    pub created_micros: i64,
}

impl Message {
    /// When it was produced.
    pub fn created_at(&self) -> DateTime<Utc> {
        crate::calendar::from_micros(self.created_micros)
    }
}

/// A new secret token: its text (64 hexadecimal digits, for a link) and its digest.
pub(crate) fn new_token() -> Result<(String, [u8; 32])> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;

    let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let digest = token_digest(&text);
    Ok((text, digest))
}

/// The SHA-256 digest under which a token is kept.
pub(crate) fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.trim().as_bytes()).into()
}

/// Whether two digests are equal, in time that does not depend on where they differ.
pub(crate) fn same_digest(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.ct_eq(b).into()
}

fn hasher() -> Result<Argon2<'static>> {
    // OWASP's minimum for argon2id: 19 MiB of memory, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| Error::Corrupt(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Checks a new password's length: [`MIN_PASSWORD`] to [`MAX_PASSWORD`] characters.
pub(crate) fn check_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err(Error::invalid(
            "password",
            "",
            format!("must be at least {MIN_PASSWORD} characters long"),
        ));
    }
    if n > MAX_PASSWORD {
        return Err(Error::invalid(
            "password",
            "",
            format!("must be at most {MAX_PASSWORD} characters long"),
        ));
    }
    Ok(())
}

/// The argon2id hash of a password, in PHC form, with a fresh random salt.
pub(crate) fn hash_password(password: &str) -> Result<String> {
    check_password(password)?;

    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| Error::Corrupt(format!("password salt: {e}")))?;
    let hash = hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| Error::Corrupt(format!("password hash: {e}")))?;
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC hash `phc`. With `None` (an unknown or inactive login)
/// the password is checked against a hash of nothing anyone knows, so that the answer takes
/// the same work either way.
pub(crate) fn verify_password(password: &str, phc: Option<&str>) -> bool {
    static DECOY: OnceLock<String> = OnceLock::new();
    let decoy = DECOY.get_or_init(|| {
        let mut random = [0u8; 24];
        let _ = getrandom::fill(&mut random);
        let text: String = random.iter().map(|b| format!("{b:02x}")).collect();
        hash_password(&text).unwrap_or_default()
    });

    let known = phc.is_some();
    let Ok(parsed) = PasswordHash::new(phc.unwrap_or(decoy)) else {
        return false;
    };
    // Over-long input is refused after the same work as any other wrong password.
    let capped: String = password.chars().take(MAX_PASSWORD + 1).collect();
    let Ok(argon) = hasher() else {
        return false;
    };

    let matches = argon.verify_password(capped.as_bytes(), &parsed).is_ok();
    known && matches && password.chars().count() <= MAX_PASSWORD
}

/// An email address as logins are keyed: checked and in lower case.
pub(crate) fn login_email(email: &str) -> Result<String> {
    crate::text::email("email", email).map(|e| e.to_lowercase())
}

/// The subject and text of an invitation.
pub(crate) fn invitation(role: &Role, name: &str, token: &str) -> (String, String) {
    let subject = "Uitnodiging voor stagematching".to_owned();
    let body = format!(
        "Beste,\n\n\
         Er werd een login voor stagematching voor je aangemaakt ({role_nl} {name}).\n\
         Activeer je account door een paswoord te kiezen met deze code:\n\n\
         {token}\n\n\
         De code is {INVITATION_DAYS} dagen geldig en werkt één keer. Daarna log je in met je \
         mailadres en je paswoord.\n\n\
         Met vriendelijke groeten,\nde coördinator stagematching",
        role_nl = role_dutch(role),
    );
    (subject, body)
}

/// The subject and text of a password reset.
pub(crate) fn reset(token: &str) -> (String, String) {
    let subject = "Je paswoord voor stagematching vernieuwen".to_owned();
    let body = format!(
        "Beste,\n\n\
         Iemand vroeg om het paswoord van deze login te vernieuwen. Was jij dat, kies dan een \
         nieuw paswoord met deze code:\n\n\
         {token}\n\n\
         De code is {RESET_MINUTES} minuten geldig en werkt één keer. Vroeg je niets aan, dan \
         hoef je niets te doen: je paswoord blijft wat het was.\n\n\
         Met vriendelijke groeten,\nde coördinator stagematching"
    );
    (subject, body)
}

/// The subject and text of the mailing at a round's start or close.
pub(crate) fn round_mailing(round: u8, start: bool, when: &str) -> (String, String) {
    if start {
        (
            format!("Ronde {round} van de stagematching is gestart"),
            format!(
                "Beste,\n\nRonde {round} van de stagematching is gestart op {when}. Log in om \
                 de studenten te bekijken die nu voor jullie zichtbaar zijn, en nodig uit of \
                 aanvaard wie bij jullie past.\n\n\
                 Met vriendelijke groeten,\nde coördinator stagematching"
            ),
        )
    } else {
        (
            format!("Ronde {round} van de stagematching is afgesloten"),
            format!(
                "Beste,\n\nRonde {round} van de stagematching werd afgesloten op {when}. \
                 Vergeet niet om de studenten die jullie aanvaardden ook in de tool in te \
                 geven.\n\n\
                 Met vriendelijke groeten,\nde coördinator stagematching"
            ),
        )
    }
}

/// The subject and text of a reminder of open requests.
pub(crate) fn reminder(service: &str, open: usize) -> (String, String) {
    let requests = if open == 1 {
        "staat nog 1 aanvraag".to_owned()
    } else {
        format!("staan nog {open} aanvragen")
    };
    (
        format!("Herinnering: er {requests} open"),
        format!(
            "Beste,\n\nVoor {service} {requests} open waarover jullie nog niets beslisten. \
             Log in om ze te bekijken.\n\n\
             Met vriendelijke groeten,\nde coördinator stagematching"
        ),
    )
}

fn role_dutch(role: &Role) -> &'static str {
    match role {
        Role::Coordinator => "coördinator",
        Role::Service(_) => "dienst",
        Role::School(_) => "school",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_kept_as_digests() {
        let (a, da) = new_token().unwrap();
        let (b, db) = new_token().unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_eq!(token_digest(&a), da);
        assert!(same_digest(&da, &token_digest(&format!(" {a}\n"))));
        assert!(!same_digest(&da, &db));
    }

    #[test]
    fn passwords_hash_as_argon2id_phc_and_verify() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("correct horse battery", Some(&phc)));
        assert!(!verify_password("correct horse batterY", Some(&phc)));
        assert!(!verify_password("correct horse battery", None));
        assert!(!verify_password("x", Some("not a phc string")));
        assert_ne!(phc, hash_password("correct horse battery").unwrap());
    }

    #[test]
    fn password_lengths_are_bounded() {
        assert_eq!(
            hash_password("short").unwrap_err().field(),
            Some("password")
        );
        let long = "é".repeat(MAX_PASSWORD + 1);
        assert_eq!(hash_password(&long).unwrap_err().field(), Some("password"));
        assert!(check_password(&"é".repeat(MAX_PASSWORD)).is_ok());
    }

    #[test]
    fn emails_are_keyed_in_lower_case() {
        assert_eq!(
            login_email(" An.Peeters@Dienst.BE ").unwrap(),
            "an.peeters@dienst.be"
        );
        assert!(login_email("not an address").is_err());
    }
}
