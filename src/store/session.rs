//! Logins, tokens, sessions and the outbox, kept in the store's file.
//!
//! The rules (DOMAIN.md's logins, QUALITY.md's security) live here; the secrets and texts
//! are in [`crate::account`]. Invariants:
//!
//! - A token or a password hash is written in the same transaction as everything it
//!   changes, and a message of the outbox in the same transaction as the action that produced
//!   it: a crash leaves all of it or none.
//! - A token works once: it is removed in the transaction that uses it, under the writer
//!   lock, so of two uses at once the second finds nothing.
//! - A login has at most one session; a sign-in replaces it, a reset or a removal ends it.
//! - Passwords are hashed and checked outside the writer lock, so slow hashing never holds
//!   up decisions; what the check relied on is checked again under the lock.

use std::collections::HashMap;
use std::sync::PoisonError;

use chrono::{DateTime, Duration, Utc};
use redb::{ReadableDatabase, ReadableTable};

use super::{LOGINS, META, OUTBOX, Page, Store, StudentCard, TOKENS, decode, encode, micros};
use crate::account::{
    self, FREE_FAILURES, Login, LoginRecord, MAX_WAIT_SECONDS, Message, MessageKind, Role,
    SessionRecord, TokenKind, TokenRecord,
};
use crate::calendar::{Micros, Phase};
use crate::decision::{Decision, Status};
use crate::directory::{Contact, NewContact};
use crate::error::{Error, Result};
use crate::ids::{ContactId, StudentId};
use crate::query::Query;
use crate::student::{NewStudent, Student};

/// The key of the moment up to which round mailings were produced.
const MAILED_KEY: &str = "mailed_until";

/// A session's use is written to the file at most this often (uses in between are kept in
/// memory), so that reads through a session do not each cost a durable write.
const SEEN_WRITE_MINUTES: i64 = 5;

/// The same answer for every refused sign-in, whether or not the address has a login.
const WRONG_SIGN_IN: &str = "wrong email address or password";

/// The same answer for every unusable token.
const BAD_TOKEN: &str = "this code is not valid: it was used already, replaced or mistyped";

impl Store {
    // ----- the clock ------------------------------------------------------------------------

    /// The store's "now" for sessions and tokens: the system clock, unless fixed with
    /// [`Store::set_clock`].
    pub fn now(&self) -> DateTime<Utc> {
        let fixed = *self.clock.read().unwrap_or_else(PoisonError::into_inner);
        fixed.unwrap_or_else(Utc::now)
    }

    /// Fixes the store's "now" (for tests and replays of a season), or with `None` returns
    /// it to the system clock. Decisions made through a session are dated by this clock.
    pub fn set_clock(&self, now: Option<DateTime<Utc>>) {
        *self.clock.write().unwrap_or_else(PoisonError::into_inner) = now;
    }

    // ----- logins -----------------------------------------------------------------------------

    /// Creates a login for `email` with `role` and returns its invitation token; the
    /// invitation message (with the token) goes to the outbox. The login activates itself
    /// with [`Store::activate`] within seven days.
    ///
    /// ```
    /// use stagematch_core::*;
    /// let store = Store::memory()?;
    /// let svc = store.add_service("Familiezorg", Province::Antwerp)?;
    /// let token = store.create_login("els@familiezorg.be", Role::Service(svc))?;
    /// store.activate(&token, "een lang paswoord")?;
    /// let session = store.sign_in("ELS@familiezorg.be", "een lang paswoord")?;
    /// assert_eq!(session.role(), Role::Service(svc));
    /// assert_eq!(store.take_outbox()?[0].kind, MessageKind::Invitation);
    /// # Ok::<(), stagematch_core::Error>(())
    /// ```
    pub fn create_login(&self, email: &str, role: Role) -> Result<String> {
        let email = account::login_email(email)?;
        let now = micros(self.now());
        let _writer = self.lock_writer();

        let name = {
            let state = self.read_state();
            if state.logins.contains_key(&email) {
                return Err(Error::invalid("email", &email, "has a login already"));
            }
            match role {
                Role::Coordinator => "stagematching".to_owned(),
                Role::Service(s) => state.service(s)?.name.clone(),
                Role::School(s) => state.school(s)?.name.clone(),
            }
        };

        let login = LoginRecord {
            email: email.clone(),
            role,
            password: None,
            created_micros: now,
            token: None,
            session: None,
        };
        self.issue_token(login, TokenKind::Invitation, now, |token| {
            account::invitation(&role, &name, token)
        })
    }

    /// A new invitation for a login that has not activated itself yet (the earlier one
    /// stops working); returns the token and puts the message in the outbox.
    pub fn invite_again(&self, email: &str) -> Result<String> {
        let email = account::login_email(email)?;
        let now = micros(self.now());
        let _writer = self.lock_writer();

        let (login, name) = {
            let state = self.read_state();
            let login = state
                .logins
                .get(&email)
                .cloned()
                .ok_or_else(|| Error::NotFound {
                    what: "login",
                    id: email.clone(),
                })?;
            if login.password.is_some() {
                return Err(Error::invalid(
                    "email",
                    &email,
                    "is active already; use a password reset instead",
                ));
            }
            let name = match login.role {
                Role::Coordinator => "stagematching".to_owned(),
                Role::Service(s) => state.service(s)?.name.clone(),
                Role::School(s) => state.school(s)?.name.clone(),
            };
            (login, name)
        };
        let role = login.role;
        self.issue_token(login, TokenKind::Invitation, now, |token| {
            account::invitation(&role, &name, token)
        })
    }

    /// Every login, by email address.
    pub fn logins(&self) -> Vec<Login> {
        let state = self.read_state();
        let mut all: Vec<Login> = state.logins.values().map(LoginRecord::public).collect();
        all.sort_by(|a, b| a.email.cmp(&b.email));
        all
    }

    /// Removes a login: its session ends and its outstanding token stops working.
    pub fn remove_login(&self, email: &str) -> Result<()> {
        let email = account::login_email(email)?;
        let _gate = self.close_gate();
        let _writer = self.lock_writer();

        let login = self
            .read_state()
            .logins
            .get(&email)
            .cloned()
            .ok_or_else(|| Error::NotFound {
                what: "login",
                id: email.clone(),
            })?;
        self.transact(|txn| {
            txn.open_table(LOGINS)?.remove(email.as_str())?;
            if let Some(digest) = &login.token {
                txn.open_table(TOKENS)?.remove(digest.as_slice())?;
            }
            Ok(())
        })?;

        let mut state = self.write_state();
        state.logins.remove(&email);
        if let Some(digest) = &login.token {
            state.tokens.remove(digest);
        }
        if let Some(session) = &login.session {
            state.sessions.remove(&session.digest);
        }
        Ok(())
    }

    /// Activates a login with its invitation token by setting its password
    /// ([`account::MIN_PASSWORD`] to [`account::MAX_PASSWORD`] characters). The token works
    /// once and for seven days.
    pub fn activate(&self, token: &str, password: &str) -> Result<Login> {
        self.use_token(token, password, TokenKind::Invitation)
    }

    /// Asks for a password reset for `email`: if it has an active login, a single-use token
    /// valid for thirty minutes goes to the outbox. The answer and the work are the same
    /// whether or not the address has a login, so the call tells nobody which addresses do.
    pub fn request_password_reset(&self, email: &str) -> Result<()> {
        let Ok(email) = account::login_email(email) else {
            return Ok(());
        };
        let now = micros(self.now());
        let _writer = self.lock_writer();

        let login = self
            .read_state()
            .logins
            .get(&email)
            .filter(|l| l.password.is_some())
            .cloned();
        match login {
            Some(login) => {
                self.issue_token(login, TokenKind::Reset, now, account::reset)?;
            }
            None => {
                // The same work as for a known address: a token drawn and hashed, and a
                // durable (empty) commit.
                let _ = account::new_token()?;
                self.transact(|_| Ok(()))?;
            }
        }
        Ok(())
    }

    /// Sets a new password with a reset token; every session of the login ends.
    pub fn reset_password(&self, token: &str, password: &str) -> Result<()> {
        self.use_token(token, password, TokenKind::Reset)
            .map(|_| ())
    }

    /// Signs in: checks the password and starts the login's one session, ending any earlier
    /// one. Refusals say only "wrong email address or password", after the same work whether
    /// or not the address has a login; after [`account::FREE_FAILURES`] failures for an
    /// address each further attempt must wait, twice as long each time (at most 15 minutes).
    pub fn sign_in(&self, email: &str, password: &str) -> Result<Session<'_>> {
        let email = account::login_email(email).map_err(|_| Error::auth(WRONG_SIGN_IN))?;
        let now = micros(self.now());
        self.check_throttle(&email, now)?;

        let phc = self
            .read_state()
            .logins
            .get(&email)
            .and_then(|l| l.password.clone());
        if !account::verify_password(password, phc.as_deref()) {
            return Err(Error::auth(WRONG_SIGN_IN));
        }

        let (token, digest) = account::new_token()?;
        let _gate = self.close_gate();
        let _writer = self.lock_writer();
        let login = {
            let state = self.read_state();
            // The password may have changed (a reset) while it was being checked.
            match state.logins.get(&email) {
                Some(l) if l.password == phc => l.clone(),
                _ => return Err(Error::auth(WRONG_SIGN_IN)),
            }
        };
        let earlier = login.session;
        let login = LoginRecord {
            session: Some(SessionRecord {
                digest,
                started_micros: now,
                seen_micros: now,
            }),
            ..login
        };
        self.transact(|txn| {
            txn.open_table(LOGINS)?
                .insert(email.as_str(), encode(&login)?.as_slice())?;
            Ok(())
        })?;

        {
            let mut state = self.write_state();
            if let Some(old) = earlier {
                state.sessions.remove(&old.digest);
            }
            state.sessions.insert(digest, email.clone());
            state.logins.insert(email.clone(), login.clone());
        }
        self.lock_failures().remove(&email);
        self.lock_seen().remove(&email);

        Ok(Session {
            store: self,
            token,
            email,
            role: login.role,
        })
    }

    /// The session of a token a sign-in returned (for a host that keeps the token, in a
    /// cookie for instance). Fails with [`Error::Auth`] if it ended: replaced by a newer
    /// sign-in, ended by a password reset or a sign-out, or idle for thirty minutes.
    pub fn session(&self, token: &str) -> Result<Session<'_>> {
        let (email, role) = self.check_session(token)?;
        Ok(Session {
            store: self,
            token: token.trim().to_owned(),
            email,
            role,
        })
    }

    /// Takes every message of the outbox, oldest first: a message is returned by exactly one
    /// call, and one that was produced is never lost, also across a crash (the messages are
    /// removed in the same durable transaction that reads them).
    pub fn take_outbox(&self) -> Result<Vec<Message>> {
        let _writer = self.lock_writer();

        let txn = self.db.begin_write()?;
        let mut messages = Vec::new();
        {
            let mut table = txn.open_table(OUTBOX)?;
            for item in table.iter()? {
                let (key, value) = item?;
                let bytes = self
                    .vault
                    .open_bytes(&key.value().to_le_bytes(), value.value())?;
                messages.push(decode::<Message>(&bytes)?);
            }
            table.retain(|_, _| false)?;
        }
        txn.commit()?;
        Ok(messages)
    }

    /// Puts the mailing of every round start and close between the previous call and `at`
    /// (now if `None`) in the outbox, one message per active service and school login. Each
    /// start and close is mailed once, however often this is called; the first call mails
    /// only what happened in the day before `at`. Returns the number of messages.
    pub fn queue_mailings(&self, at: impl Into<Option<DateTime<Utc>>>) -> Result<usize> {
        let at = at.into().unwrap_or_else(|| self.now());
        let t = micros(at);
        let _writer = self.lock_writer();

        let since = match self.read_meta_micros(MAILED_KEY)? {
            Some(m) => m,
            None => micros(at - Duration::days(1)),
        };
        if t <= since {
            return Ok(0);
        }

        let cal = self.calendar();
        let mut events = Vec::new();
        for (round, window) in [(1u8, cal.round1), (2, cal.round2), (3, cal.round3)] {
            events.push((window.start, round, true));
            events.push((window.end, round, false));
        }
        events.retain(|(when, ..)| micros(*when) > since && micros(*when) <= t);
        events.sort();

        let recipients: Vec<String> = {
            let state = self.read_state();
            let mut all: Vec<String> = state
                .logins
                .values()
                .filter(|l| l.password.is_some() && l.role != Role::Coordinator)
                .map(|l| l.email.clone())
                .collect();
            all.sort();
            all
        };

        let mut messages = Vec::new();
        for (when, round, start) in events {
            let shown = when
                .with_timezone(&chrono_tz::Europe::Brussels)
                .format("%d/%m/%Y om %H:%M")
                .to_string();
            let (subject, body) = account::round_mailing(round, start, &shown);
            let kind = if start {
                MessageKind::RoundStart
            } else {
                MessageKind::RoundClose
            };
            for to in &recipients {
                messages.push(Message {
                    kind,
                    to: to.clone(),
                    subject: subject.clone(),
                    body: body.clone(),
                    created_micros: t,
                });
            }
        }

        let count = messages.len();
        self.transact(|txn| {
            txn.open_table(META)?
                .insert(MAILED_KEY, t.to_le_bytes().as_slice())?;
            self.push_messages(txn, &messages)
        })?;
        self.write_state().outbox_next += count as u64;
        Ok(count)
    }

    /// Puts a reminder in the outbox for every active login of every service that, at `at`
    /// (now if `None`) during a round, has students in its open tab it decided nothing about
    /// yet, with their number. Returns the number of messages.
    pub fn queue_reminders(&self, at: impl Into<Option<DateTime<Utc>>>) -> Result<usize> {
        let at = at.into().unwrap_or_else(|| self.now());
        if !matches!(
            self.phase(at),
            Phase::Round1 | Phase::Round2 | Phase::Round3
        ) {
            return Ok(0);
        }

        let mut by_service: HashMap<u32, Vec<String>> = HashMap::new();
        for login in self.read_state().logins.values() {
            if let (Role::Service(s), Some(_)) = (login.role, &login.password) {
                by_service
                    .entry(s.get())
                    .or_default()
                    .push(login.email.clone());
            }
        }

        let mut messages = Vec::new();
        let mut services: Vec<_> = by_service.into_iter().collect();
        services.sort();
        for (number, mut emails) in services {
            let Some(service) = crate::ids::ServiceId::new(number) else {
                continue;
            };
            let (_, picked) = self.pick(service, &Query::default(), micros(at), true)?;
            let open = picked
                .iter()
                .filter(|(_, status, _)| *status == Status::Undecided)
                .count();
            if open == 0 {
                continue;
            }
            let name = self.read_state().service(service)?.name.clone();
            let (subject, body) = account::reminder(&name, open);
            emails.sort();
            for to in emails {
                messages.push(Message {
                    kind: MessageKind::Reminder,
                    to,
                    subject: subject.clone(),
                    body: body.clone(),
                    created_micros: micros(at),
                });
            }
        }

        let _writer = self.lock_writer();
        let count = messages.len();
        self.transact(|txn| self.push_messages(txn, &messages))?;
        self.write_state().outbox_next += count as u64;
        Ok(count)
    }

    // ----- helpers ------------------------------------------------------------------------

    /// Writes `login` with a new token of `kind` (replacing its earlier one) and the message
    /// `text` makes of it, in one transaction; returns the token. Holds the writer lock.
    fn issue_token(
        &self,
        login: LoginRecord,
        kind: TokenKind,
        now: Micros,
        text: impl FnOnce(&str) -> (String, String),
    ) -> Result<String> {
        let (token, digest) = account::new_token()?;
        let lifetime = match kind {
            TokenKind::Invitation => Duration::days(account::INVITATION_DAYS),
            TokenKind::Reset => Duration::minutes(account::RESET_MINUTES),
        };
        let record = TokenRecord {
            email: login.email.clone(),
            kind,
            expires_micros: now + lifetime.num_microseconds().unwrap_or(i64::MAX),
        };
        let earlier = login.token;
        let login = LoginRecord {
            token: Some(digest),
            ..login
        };
        let (subject, body) = text(&token);
        let kind_out = match kind {
            TokenKind::Invitation => MessageKind::Invitation,
            TokenKind::Reset => MessageKind::PasswordReset,
        };
        let message = Message {
            kind: kind_out,
            to: login.email.clone(),
            subject,
            body,
            created_micros: now,
        };

        self.transact(|txn| {
            txn.open_table(LOGINS)?
                .insert(login.email.as_str(), encode(&login)?.as_slice())?;
            let mut tokens = txn.open_table(TOKENS)?;
            if let Some(old) = &earlier {
                tokens.remove(old.as_slice())?;
            }
            tokens.insert(digest.as_slice(), encode(&record)?.as_slice())?;
            self.push_messages(txn, std::slice::from_ref(&message))
        })?;

        let mut state = self.write_state();
        if let Some(old) = &earlier {
            state.tokens.remove(old);
        }
        state.tokens.insert(digest, record);
        state.logins.insert(login.email.clone(), login);
        state.outbox_next += 1;
        Ok(token)
    }

    /// Sets a password with a token of `kind`: the token is used up, and a reset ends the
    /// login's session.
    fn use_token(&self, token: &str, password: &str, kind: TokenKind) -> Result<Login> {
        let digest = account::token_digest(token);
        account::check_password(password)?;
        // A token nobody issued costs no hashing; one that is there is checked again below.
        let known = self
            .read_state()
            .tokens
            .get(&digest)
            .is_some_and(|r| r.kind == kind);
        if !known {
            return Err(Error::auth(BAD_TOKEN));
        }

        // The slow part outside the locks; a bad password leaves the token usable.
        let phc = account::hash_password(password)?;
        let now = micros(self.now());
        let _gate = self.close_gate();
        let _writer = self.lock_writer();

        let login = {
            let state = self.read_state();
            let record = state
                .tokens
                .get(&digest)
                .filter(|r| r.kind == kind)
                .ok_or_else(|| Error::auth(BAD_TOKEN))?;
            let login = state
                .logins
                .get(&record.email)
                .filter(|l| l.token.is_some_and(|d| account::same_digest(&d, &digest)))
                .ok_or_else(|| Error::auth(BAD_TOKEN))?;
            if now >= record.expires_micros {
                return Err(Error::auth(match kind {
                    TokenKind::Invitation => {
                        "this invitation has expired; ask the coordinator for a new one"
                    }
                    TokenKind::Reset => "this reset code has expired; ask for a new one",
                }));
            }
            login.clone()
        };

        let ended = login.session;
        let login = LoginRecord {
            password: Some(phc),
            token: None,
            session: None,
            ..login
        };
        self.transact(|txn| {
            txn.open_table(LOGINS)?
                .insert(login.email.as_str(), encode(&login)?.as_slice())?;
            txn.open_table(TOKENS)?.remove(digest.as_slice())?;
            Ok(())
        })?;

        let mut state = self.write_state();
        state.tokens.remove(&digest);
        if let Some(session) = ended {
            state.sessions.remove(&session.digest);
        }
        let public = login.public();
        state.logins.insert(login.email.clone(), login);
        Ok(public)
    }

    /// The login and role of a live session, noting its use.
    fn check_session(&self, token: &str) -> Result<(String, Role)> {
        let ended = || Error::auth("the session has ended; sign in again");
        let digest = account::token_digest(token);
        let now = micros(self.now());
        let idle = Duration::minutes(account::SESSION_IDLE_MINUTES)
            .num_microseconds()
            .unwrap_or(i64::MAX);

        let (email, role, record) = {
            let state = self.read_state();
            let email = state.sessions.get(&digest).ok_or_else(ended)?;
            let login = state.logins.get(email).ok_or_else(ended)?;
            let record = login
                .session
                .filter(|s| account::same_digest(&s.digest, &digest))
                .ok_or_else(ended)?;
            (email.clone(), login.role, record)
        };

        let seen = self
            .lock_seen()
            .get(&email)
            .copied()
            .unwrap_or(record.seen_micros)
            .max(record.seen_micros);
        if now - seen > idle {
            return Err(Error::auth(
                "the session has ended after 30 minutes without use; sign in again",
            ));
        }

        self.lock_seen().insert(email.clone(), now.max(seen));
        let write_every = Duration::minutes(SEEN_WRITE_MINUTES)
            .num_microseconds()
            .unwrap_or(i64::MAX);
        if now - record.seen_micros > write_every {
            self.write_seen(&email, &digest, now)?;
        }
        Ok((email, role))
    }

    /// Writes a session's latest use to the file (if it is still the login's session).
    fn write_seen(&self, email: &str, digest: &[u8; 32], now: Micros) -> Result<()> {
        let _writer = self.lock_writer();
        let Some(login) = self.read_state().logins.get(email).cloned() else {
            return Ok(());
        };
        let Some(session) = login.session.filter(|s| s.digest == *digest) else {
            return Ok(());
        };

        let login = LoginRecord {
            session: Some(SessionRecord {
                seen_micros: now.max(session.seen_micros),
                ..session
            }),
            ..login
        };
        self.transact(|txn| {
            txn.open_table(LOGINS)?
                .insert(email, encode(&login)?.as_slice())?;
            Ok(())
        })?;
        self.write_state().logins.insert(email.to_owned(), login);
        Ok(())
    }

    fn end_session(&self, email: &str, digest: &[u8; 32]) -> Result<()> {
        let _gate = self.close_gate();
        let _writer = self.lock_writer();
        let Some(login) = self.read_state().logins.get(email).cloned() else {
            return Ok(());
        };
        if login.session.is_none_or(|s| s.digest != *digest) {
            return Ok(());
        }

        let login = LoginRecord {
            session: None,
            ..login
        };
        self.transact(|txn| {
            txn.open_table(LOGINS)?
                .insert(email, encode(&login)?.as_slice())?;
            Ok(())
        })?;
        let mut state = self.write_state();
        state.sessions.remove(digest);
        state.logins.insert(email.to_owned(), login);
        Ok(())
    }

    /// Refuses a sign-in while the address must wait after repeated failures; otherwise
    /// counts this attempt as a failure before the password is checked (a success clears
    /// it), so that attempts sent all at once are counted all the same.
    fn check_throttle(&self, email: &str, now: Micros) -> Result<()> {
        // The check and the count happen under one hold of the lock, so that of attempts
        // sent all at once, no more than the free ones get past before they are counted.
        let mut failures = self.lock_failures();
        if let Some(&(count, last)) = failures.get(email)
            && count >= FREE_FAILURES
        {
            // 1 s after the fifth failure, doubling up to MAX_WAIT_SECONDS (the shift is
            // capped so it cannot overflow).
            let wait = (1i64 << (count - FREE_FAILURES).min(20)).min(MAX_WAIT_SECONDS);
            let until = last.saturating_add(wait.saturating_mul(1_000_000));
            if now < until {
                let seconds = (until - now + 999_999) / 1_000_000;
                return Err(Error::auth(format!(
                    "too many failed sign-ins for this address; try again in {seconds} s"
                )));
            }
        }

        // Addresses nobody signed in with for a day are forgotten, so the map stays small.
        if failures.len() > 10_000 {
            let day = 86_400 * 1_000_000;
            failures.retain(|_, (_, last)| now - *last < day);
        }
        let entry = failures.entry(email.to_owned()).or_insert((0, now));
        entry.0 = entry.0.saturating_add(1);
        entry.1 = now;
        Ok(())
    }

    /// Excludes session operations (while sessions are ended or replaced).
    fn close_gate(&self) -> std::sync::RwLockWriteGuard<'_, ()> {
        self.gate.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps sessions as they are for the length of one session operation.
    fn hold_gate(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        self.gate.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_failures(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, Micros)>> {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_seen(&self) -> std::sync::MutexGuard<'_, HashMap<String, Micros>> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends messages to the outbox table in `txn` (the caller then advances
    /// `outbox_next` by their number, after the commit).
    fn push_messages(&self, txn: &redb::WriteTransaction, messages: &[Message]) -> Result<()> {
        let next = self.read_state().outbox_next;
        let mut table = txn.open_table(OUTBOX)?;
        for (k, message) in messages.iter().enumerate() {
            // With a key, messages (tokens included) are sealed until they are taken.
            let seq = next + k as u64;
            let stored = self
                .vault
                .seal_bytes(&seq.to_le_bytes(), &encode(message)?)?;
            table.insert(seq, stored.as_slice())?;
        }
        Ok(())
    }

    fn read_meta_micros(&self, key: &str) -> Result<Option<Micros>> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        let Some(value) = meta.get(key)? else {
            return Ok(None);
        };
        let bytes: [u8; 8] = value
            .value()
            .try_into()
            .map_err(|_| Error::Corrupt(format!("{key} is not 8 bytes")))?;
        Ok(Some(i64::from_le_bytes(bytes)))
    }
}

/// A signed-in login: the operations of its role, without the service or school argument.
/// Every call checks that the session is still live (not replaced by a newer sign-in, not
/// ended by a reset, not idle) and that the role may do it ([`Error::Forbidden`] if not).
/// Decisions and registrations are dated by the store's clock ([`Store::now`]); views may
/// look at the present or the past, never the future.
///
/// ```
/// use stagematch_core::*;
/// let store = Store::memory()?;
/// let school = store.add_school("VTI Mechelen")?;
/// let token = store.create_login("sec@vti.be", Role::School(school))?;
/// store.activate(&token, "een lang paswoord")?;
/// let session = store.sign_in("sec@vti.be", "een lang paswoord")?;
/// assert!(matches!(session.students(&Query::default(), None), Err(Error::Forbidden { .. })));
/// # Ok::<(), stagematch_core::Error>(())
/// ```
pub struct Session<'s> {
    store: &'s Store,
    token: String,
    email: String,
    role: Role,
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a secret: never printed.
        f.debug_struct("Session")
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl<'s> Session<'s> {
    /// The token to hand to the client (a cookie, for instance); [`Store::session`] turns
    /// it back into this session.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The login's email address.
    pub fn email(&self) -> &str {
        &self.email
    }

    /// The login's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Ends the session.
    pub fn sign_out(self) -> Result<()> {
        let digest = account::token_digest(&self.token);
        self.store.end_session(&self.email, &digest)
    }

    /// The whole store, for a coordinator's session; [`Error::Forbidden`] for anyone else.
    /// The reference is the trusted API: it checks nothing more, so a host should ask for it
    /// again for each request rather than keep it after the session ends.
    pub fn coordinator(&self) -> Result<&'s Store> {
        match self.live()? {
            Role::Coordinator => Ok(self.store),
            other => Err(Error::forbidden(format!(
                "only the coordinator may do this, not a {}",
                role_word(other)
            ))),
        }
    }

    /// Creates a login (coordinator only); see [`Store::create_login`].
    pub fn create_login(&self, email: &str, role: Role) -> Result<String> {
        let _gate = self.store.hold_gate();
        self.coordinator()?.create_login(email, role)
    }

    // ----- a service's operations ----------------------------------------------------------

    /// The service's tab (see [`Store::students`]), at `at` (now if `None`; not later).
    pub fn students(&self, query: &Query, at: impl Into<Option<DateTime<Utc>>>) -> Result<Page> {
        let _gate = self.store.hold_gate();
        let service = self.service()?;
        let at = self.past_or_now(at.into())?;
        self.store.students(service, query, at)
    }

    /// One student's card as the service sees it (see [`Store::student`]).
    pub fn student(
        &self,
        student: StudentId,
        at: impl Into<Option<DateTime<Utc>>>,
    ) -> Result<StudentCard> {
        let _gate = self.store.hold_gate();
        let service = self.service()?;
        let at = self.past_or_now(at.into())?;
        self.store.student(service, student, at)
    }

    /// The service's status for a student, now or in the past.
    pub fn status(
        &self,
        student: StudentId,
        at: impl Into<Option<DateTime<Utc>>>,
    ) -> Result<Status> {
        let _gate = self.store.hold_gate();
        let service = self.service()?;
        let at = self.past_or_now(at.into())?;
        self.store.status(service, student, at)
    }

    /// Records the service's decision about a student, now (by the store's clock); the audit
    /// log names this login.
    pub fn decide(&self, student: StudentId, decision: &Decision) -> Result<()> {
        let _gate = self.store.hold_gate();
        let service = self.service()?;
        let now = self.store.now();
        self.store
            .decide_as(&self.email, service, student, decision, now)
    }

    /// Records many decisions of the service at once (see [`Store::decide_many`]).
    pub fn decide_many(&self, decisions: &[(StudentId, Decision)]) -> Result<Vec<Result<()>>> {
        let _gate = self.store.hold_gate();
        let service = self.service()?;
        self.store
            .decide_many_as(&self.email, service, decisions, self.store.now())
    }

    /// Adds a contact person to the service.
    pub fn add_contact(&self, contact: &NewContact) -> Result<ContactId> {
        let _gate = self.store.hold_gate();
        let service = self.service()?;
        self.store.add_contact(service, contact)
    }

    /// The service's contact persons.
    pub fn contacts(&self) -> Result<Vec<Contact>> {
        let _gate = self.store.hold_gate();
        let service = self.service()?;
        self.store.contacts(service)
    }

    /// Exports the service's tab (see [`Store::export_tab`]).
    pub fn export_tab<W: std::io::Write>(
        &self,
        query: &Query,
        at: impl Into<Option<DateTime<Utc>>>,
        options: &crate::csv::ExportOptions,
        out: W,
    ) -> Result<usize> {
        let _gate = self.store.hold_gate();
        let service = self.service()?;
        let at = self.past_or_now(at.into())?;
        self.store.export_tab(service, query, at, options, out)
    }

    // ----- a school's operations -----------------------------------------------------------

    /// Registers a student of the school, now.
    pub fn register_student(&self, student: &NewStudent) -> Result<StudentId> {
        let _gate = self.store.hold_gate();
        let school = self.school()?;
        self.store
            .register_student(school, student, self.store.now())
    }

    /// Registers students of the school, now, all or none.
    pub fn register_students(&self, students: &[NewStudent]) -> Result<Vec<StudentId>> {
        let _gate = self.store.hold_gate();
        let school = self.school()?;
        self.store
            .register_students(school, students, self.store.now())
    }

    /// Imports the school's CSV file, now, all rows or none.
    pub fn import_students<R: std::io::Read>(&self, input: R) -> Result<Vec<StudentId>> {
        let _gate = self.store.hold_gate();
        let school = self.school()?;
        self.store.import_students(input, school, self.store.now())
    }

    /// The school's own students, with everything the school registered.
    pub fn own_students(&self) -> Result<Vec<Student>> {
        let _gate = self.store.hold_gate();
        let school = self.school()?;
        self.store.school_students(school)
    }

    // ----- checks --------------------------------------------------------------------------

    fn live(&self) -> Result<Role> {
        self.store.check_session(&self.token).map(|(_, role)| role)
    }

    fn service(&self) -> Result<crate::ids::ServiceId> {
        match self.live()? {
            Role::Service(s) => Ok(s),
            other => Err(Error::forbidden(format!(
                "only a service may do this, not a {}",
                role_word(other)
            ))),
        }
    }

    fn school(&self) -> Result<crate::ids::SchoolId> {
        match self.live()? {
            Role::School(s) => Ok(s),
            other => Err(Error::forbidden(format!(
                "only a school may do this, not a {}",
                role_word(other)
            ))),
        }
    }

    fn past_or_now(&self, at: Option<DateTime<Utc>>) -> Result<DateTime<Utc>> {
        let now = self.store.now();
        match at {
            None => Ok(now),
            Some(t) if t <= now => Ok(t),
            Some(t) => Err(Error::invalid(
                "at",
                &t.to_rfc3339(),
                "a session may look at the present or the past, not the future",
            )),
        }
    }
}

fn role_word(role: Role) -> &'static str {
    match role {
        Role::Coordinator => "coordinator",
        Role::Service(_) => "service",
        Role::School(_) => "school",
    }
}
