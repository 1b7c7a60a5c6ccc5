//! Personal data at rest (*persoonsgegevens*): the national register number
//! (*rijksregisternummer*) sealed with a key the host supplies, and the keyed digest that
//! finds a number registered twice without keeping it in clear.
//!
//! Invariants:
//! - With a key, a national register number is written to the file only sealed
//!   (XChaCha20-Poly1305, a fresh 192-bit nonce each time, bound to the student's id), and its
//!   duplicate check uses HMAC-SHA-256 under a key derived from the host's; without the key
//!   neither can be reversed or recomputed.
//! - The store remembers a check value of its key (an HMAC, not the key), so a store that
//!   holds sealed numbers is never opened with no key or the wrong one.
//! - With a key, the messages of the outbox (which carry invitation and reset tokens) are
//!   sealed the same way until the host takes them.
//! - Without a key (a store whose host supplies none) numbers are kept in clear and the
//!   digest uses a random salt kept in the file: duplicates are still found, nothing is
//!   protected. `docs/security.md` says so.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};

/// The host's key for personal data at rest: 32 bytes, usually kept as 64 hexadecimal
/// digits in a file or a secret store outside the store's file.
///
/// ```
/// use stagematch_core::Key;
/// let key = Key::generate()?;
/// assert_eq!(Key::from_hex(&key.to_hex())?, key);
/// assert_eq!(format!("{key:?}"), "Key(…)");
/// assert!(Key::from_hex("abc").is_err());
/// # Ok::<(), stagematch_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A key is never printed.
        f.write_str("Key(…)")
    }
}

impl Key {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Result<Key> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
        Ok(Key(bytes))
    }

    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Key {
        Key(bytes)
    }

    /// A key from 64 hexadecimal digits (surrounding white space ignored).
    pub fn from_hex(text: &str) -> Result<Key> {
        let text = text.trim();
        let bad = || Error::invalid("key", "", "must be 64 hexadecimal digits (32 bytes)");
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }

        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Key(bytes))
    }

    /// The key as 64 hexadecimal digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A key for one purpose, derived from this one.
    fn derive(&self, purpose: &str) -> [u8; 32] {
        mac(&self.0, purpose.as_bytes())
    }

    /// The value a store keeps to recognise its key.
    pub(crate) fn check_value(&self) -> [u8; 32] {
        self.derive("stagematch key check v1")
    }
}

fn keyed(key: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"))
}

fn mac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut m = keyed(key);
    m.update(data);
    m.finalize().into_bytes().into()
}

/// A stored number is one of these, after a tag byte.
const CLEAR: u8 = 0;
const SEALED: u8 = 1;

/// What the store seals, opens and digests national register numbers with.
pub(crate) struct Vault {
    aead: Option<XChaCha20Poly1305>,
    /// HMAC-SHA-256 keyed for digests, prepared once (cloned per digest).
    digest_mac: Hmac<Sha256>,
}

impl Vault {
    /// With the host's key; or, without one, numbers in clear and digests under `salt`.
    pub(crate) fn new(key: Option<&Key>, salt: [u8; 32]) -> Vault {
        match key {
            Some(k) => Vault {
                aead: Some(XChaCha20Poly1305::new(
                    &k.derive("stagematch national number aead v1").into(),
                )),
                digest_mac: keyed(&k.derive("stagematch national number digest v1")),
            },
            None => Vault {
                aead: None,
                digest_mac: keyed(&salt),
            },
        }
    }

    /// Whether numbers are sealed.
    pub(crate) fn seals(&self) -> bool {
        self.aead.is_some()
    }

    /// The duplicate-finding digest of a number's eleven digits.
    pub(crate) fn digest(&self, digits: &str) -> [u8; 32] {
        let mut m = self.digest_mac.clone();
        m.update(digits.as_bytes());
        m.finalize().into_bytes().into()
    }

    /// The stored form of a number's digits for `student` (its id number).
    pub(crate) fn seal(&self, student: u32, digits: &str) -> Result<Vec<u8>> {
        self.seal_bytes(&student.to_le_bytes(), digits.as_bytes())
    }

    /// The digits of a stored number of `student`.
    pub(crate) fn open(&self, student: u32, stored: &[u8]) -> Result<String> {
        let damaged = || Error::Corrupt(format!("the national register number of stu-{student}"));
        let digits = self
            .open_bytes(&student.to_le_bytes(), stored)
            .map_err(|e| match e {
                Error::KeyRequired => e,
                _ => damaged(),
            })?;
        String::from_utf8(digits).map_err(|_| damaged())
    }

    /// `data` sealed (with a key) or tagged as clear (without), bound to `context`.
    pub(crate) fn seal_bytes(&self, context: &[u8], data: &[u8]) -> Result<Vec<u8>> {
        let Some(aead) = &self.aead else {
            let mut out = vec![CLEAR];
            out.extend_from_slice(data);
            return Ok(out);
        };

        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
        let sealed = aead
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: data,
                    aad: context,
                },
            )
            .map_err(|_| Error::Corrupt("personal data could not be sealed".into()))?;

        let mut out = Vec::with_capacity(1 + 24 + sealed.len());
        out.push(SEALED);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// What [`Vault::seal_bytes`] sealed with the same `context`.
    pub(crate) fn open_bytes(&self, context: &[u8], stored: &[u8]) -> Result<Vec<u8>> {
        let damaged = || Error::Corrupt("sealed data does not open".into());
        match stored.split_first() {
            Some((&CLEAR, data)) => Ok(data.to_vec()),
            Some((&SEALED, rest)) if rest.len() > 24 => {
                let aead = self.aead.as_ref().ok_or(Error::KeyRequired)?;
                let (nonce, sealed) = rest.split_at(24);
                aead.decrypt(
                    XNonce::from_slice(nonce),
                    Payload {
                        msg: sealed,
                        aad: context,
                    },
                )
                .map_err(|_| damaged())
            }
            _ => Err(damaged()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_numbers_open_only_with_their_key_and_student() {
        let key = Key::generate().unwrap();
        let vault = Vault::new(Some(&key), [0; 32]);
        let a = vault.seal(7, "85073003328").unwrap();
        let b = vault.seal(7, "85073003328").unwrap();
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(!a.windows(11).any(|w| w == b"85073003328"));
        assert_eq!(vault.open(7, &a).unwrap(), "85073003328");
        assert!(vault.open(8, &a).is_err(), "bound to the student");

        let other = Vault::new(Some(&Key::generate().unwrap()), [0; 32]);
        assert!(other.open(7, &a).is_err());
        let keyless = Vault::new(None, [1; 32]);
        assert!(matches!(keyless.open(7, &a), Err(Error::KeyRequired)));

        let mut tampered = a.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(vault.open(7, &tampered).is_err());
    }

    #[test]
    fn digests_are_keyed() {
        let key = Key::generate().unwrap();
        let vault = Vault::new(Some(&key), [0; 32]);
        assert_eq!(vault.digest("85073003328"), vault.digest("85073003328"));
        assert_ne!(vault.digest("85073003328"), vault.digest("85073003329"));
        let other = Vault::new(Some(&Key::generate().unwrap()), [0; 32]);
        assert_ne!(vault.digest("85073003328"), other.digest("85073003328"));

        let keyless = Vault::new(None, [9; 32]);
        let stored = keyless.seal(3, "85073003328").unwrap();
        assert_eq!(keyless.open(3, &stored).unwrap(), "85073003328");
        assert!(!keyless.seals());
    }
}
